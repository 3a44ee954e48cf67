"""Errors raised by veba-sdk.

The hierarchy has one root::

    VebaError
    ├── InvalidEvent          input that is not a decodable vCenter CloudEvent (HTTP 400)
    ├── RouteError            a route that can never match (raised at decoration time)
    └── HandlerError          a handler raised; carries the original exceptions
"""

from __future__ import annotations


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
