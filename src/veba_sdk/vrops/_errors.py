"""Errors raised by the vROps client.

The hierarchy hangs off the package root::

    VebaError
    └── VropsError              any failed vROps call: status, apiErrorCode, message
        ├── VropsAuthError      token acquire refused, or 401 after one re-acquire
        ├── VropsNotFound       404, or no resource with exactly that name
        └── AmbiguousResource   several resources match exactly; lists them

Messages are built from the server's error body and our own text only. Known
secrets (the password, tokens) are scrubbed from server text before it is used,
so ``str(exc)`` and ``repr(exc)`` are safe to log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from veba_sdk._errors import VebaError

if TYPE_CHECKING:
    from veba_sdk.vrops._models import Resource

__all__ = ["AmbiguousResource", "VropsAuthError", "VropsError", "VropsNotFound"]


class VropsError(VebaError):
    """A vROps call failed.

    Attributes:
        status: the HTTP status, or ``None`` when no response was received
            (connection errors after the last retry).
        api_error_code: vROps' ``apiErrorCode`` (1512 is an expired token).
        message: one line, from the server's error body where it sent one.
        validation_failures: the ``failureMessage`` texts of
            ``validationFailures[]``.
        retry_after: seconds from a ``Retry-After`` header, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        api_error_code: int | None = None,
        validation_failures: Sequence[str] = (),
        retry_after: float | None = None,
    ) -> None:
        self.message = " ".join(str(message).split())
        self.status = status
        self.api_error_code = api_error_code
        self.validation_failures = tuple(validation_failures)
        self.retry_after = retry_after
        super().__init__(self._text())

    def _text(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.api_error_code is not None:
            parts.append(f"apiErrorCode {self.api_error_code}")
        head = f"[{', '.join(parts)}] " if parts else ""
        text = head + self.message
        if self.validation_failures:
            text += " (" + "; ".join(self.validation_failures) + ")"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"api_error_code={self.api_error_code!r})"
        )


class VropsAuthError(VropsError):
    """The token could not be acquired, or the server kept answering 401.

    Raised after exactly one re-acquire and one retry: the client never loops
    on 401.
    """


class VropsNotFound(VropsError, LookupError):
    """No such resource: a 404, or no resource has exactly the name asked for."""


class AmbiguousResource(VropsError, LookupError):
    """Several resources match exactly; ``matches`` lists them all."""

    def __init__(self, message: str, matches: Sequence[Resource]) -> None:
        self.matches: tuple[Resource, ...] = tuple(matches)
        listed = ", ".join(
            f"{m.name} ({m.identifier}, {m.moref or '-'}@{m.vcenter_uuid or '-'})"
            for m in self.matches
        )
        super().__init__(f"{message}: {len(self.matches)} matches: {listed}")
