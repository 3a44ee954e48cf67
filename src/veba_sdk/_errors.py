"""Errors raised by veba-sdk.

The hierarchy has one root::

    VebaError
    ├── InvalidEvent          input that is not a decodable vCenter CloudEvent (HTTP 400)
    ├── RouteError            a route that can never match (raised at decoration time)
    ├── ConfigError           an invalid RouterConfig (the message names the field path)
    └── HandlerError          a handler raised; carries the original exceptions
"""

from __future__ import annotations

__all__ = ["ConfigError", "HandlerError", "InvalidEvent", "RouteError", "VebaError"]


class VebaError(Exception):
    """Root of every error veba-sdk raises on purpose."""


class InvalidEvent(VebaError, ValueError):
    """The input is not a decodable event.

    The message is one line naming the offending field, safe to return to the
    caller as the body of a 400 response.
    """

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        # One line, always: callers put this straight into an HTTP response body.
        reason = " ".join(str(reason).split())
        if len(reason) > 300:
            reason = reason[:297] + "..."
        self.reason = reason
        self.field = field
        super().__init__(reason)


class RouteError(VebaError, ValueError):
    """A route was declared that can never match an event."""


class HandlerError(VebaError):
    """One or more handlers raised while handling an event."""

    def __init__(self, message: str, errors: list[BaseException] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


class ConfigError(VebaError, ValueError):
    """A RouterConfig (or other configuration) is unreadable or invalid.

    The message names each offending field by its dotted path, e.g.
    ``eventProcessor.knative.encoding: must be one of binary, structured``.
    ``problems`` lists every problem found; ``path`` is the field path of the
    first one (``None`` when the document as a whole is at fault). Values of
    secret fields never appear in the message.
    """

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems else [message]
        first = self.problems[0]
        head, sep, _ = first.partition(": ")
        self.path: str | None = head if sep and " " not in head else None

    @classmethod
    def from_problems(cls, problems: list[str], *, hint: str = "") -> ConfigError:
        """One error for a list of ``"path: reason"`` problems."""
        if len(problems) == 1:
            message = problems[0]
        else:
            shown = "; ".join(problems[:5])
            more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
            message = f"{len(problems)} problems: {shown}{more}"
        return cls(message + hint, problems=problems)
