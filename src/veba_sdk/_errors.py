"""Errors raised by veba-sdk.

The hierarchy has one root::

    VebaError
    ├── InvalidEvent          input that is not a decodable vCenter CloudEvent (HTTP 400)
    ├── RouteError            a route that can never match (raised at decoration time)
    ├── ConfigError           an invalid RouterConfig (the message names the field path)
    ├── HandlerError          a handler raised; carries the original exceptions
    ├── ManifestError         routes a platform's manifests cannot express (veba_sdk.manifests)
    ├── IdempotencyStoreError an idempotency store failed (veba_sdk.idempotency); the router
    │                         fails the delivery for a retry instead of raising it
    ├── DuplicateInProgress   the same event is being handled by another delivery right now
    │                         (in DispatchResult.failed, never raised: the delivery is retried)
    └── MissingExtra          an optional dependency is absent (also a ModuleNotFoundError);
                              the message names the extra: pip install 'veba-sdk[vrops]'
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = [
    "ConfigError",
    "DuplicateInProgress",
    "HandlerError",
    "InvalidEvent",
    "MissingExtra",
    "RouteError",
    "VebaError",
]


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


class DuplicateInProgress(VebaError):
    """The same event is being handled right now by another delivery; retry later."""


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
        """One error for a list of ``"path: reason"`` problems, all of them on one line."""
        if len(problems) == 1:
            message = problems[0]
        else:  # every one of them: the one cut off may be the cause
            message = f"{len(problems)} problems: " + "; ".join(problems)
        return cls(message + hint, problems=problems)


class MissingExtra(VebaError, ModuleNotFoundError):
    """An optional dependency is not installed; the message says which extra installs it.

    A :class:`ModuleNotFoundError` too, so ``except ImportError`` code keeps working.
    ``name`` is the missing module, ``extra`` the extra to install, ``feature`` what needs it.
    """

    def __init__(
        self, module: str, extra: str, feature: str, *, distribution: str | None = None
    ) -> None:
        self.extra = extra
        self.feature = feature
        self.distribution = distribution or module
        what = module if self.distribution == module else f"{module} ({self.distribution})"
        super().__init__(
            f"{feature} needs {what}, which is not installed: pip install 'veba-sdk[{extra}]'"
        )
        self.name = module

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            functools.partial(type(self), distribution=self.distribution),
            (str(self.name), self.extra, self.feature),
        )
