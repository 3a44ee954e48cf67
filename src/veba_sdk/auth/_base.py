"""What every sender check is: a request in, ``None`` (let it through) or a :class:`Denial` out.

Plain slotted classes, not attrs: every HTTP adapter imports this module, and attrs is
imported by nothing else at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

__all__ = ["Authenticator", "Denial", "Request", "check_async", "headers_from_pairs"]

logger = logging.getLogger("veba_sdk.auth")


class Request:
    """The parts of an HTTP request a check may read.

    Attributes:
        method: the HTTP method, upper case.
        path: the request path.
        headers: header names in lower case to their (latin-1 decoded) values.
        body: the raw body, or ``None`` when the check runs before it is read (only checks
            with ``needs_body = False`` are run that way).
    """

    __slots__ = ("body", "headers", "method", "path")

    def __init__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        size = "None" if self.body is None else f"<{len(self.body)} bytes>"
        return f"Request({self.method!r}, {self.path!r}, <{len(self.headers)} headers>, {size})"


class Denial:
    """A refused request: the status, a one-line reason, and headers for the answer.

    The reason never holds the credential that was presented; it is safe to log and to send.
    """

    __slots__ = ("headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Denial):
            return NotImplemented
        return (self.status, self.reason, self.headers) == (
            other.status,
            other.reason,
            other.headers,
        )

    def __hash__(self) -> int:
        return hash((self.status, self.reason, self.headers))

    def __repr__(self) -> str:
        return f"Denial({self.status}, {self.reason!r}, {self.headers!r})"


@runtime_checkable
class Authenticator(Protocol):
    """A sender check, as every adapter's ``auth=`` takes it.

    ``needs_body`` says whether :meth:`check` reads the body (HMAC does, so it runs after the
    body is read and before it is decoded; the others run before the body is read).
    """

    needs_body: bool

    def check(self, request: Request) -> Denial | None:
        """``None`` if the request may be handled, else why not. Never raises for bad input."""
        ...


async def check_async(auth: Authenticator, request: Request) -> Denial | None:
    """:meth:`Authenticator.check` from a coroutine.

    A check that may block (OIDC fetching its issuer's keys) has ``check_async``, used here so
    the event loop never waits on the network; the others are called directly.
    """
    method = getattr(auth, "check_async", None)
    if method is not None:
        denial: Denial | None = await method(request)
        return denial
    return auth.check(request)


def headers_from_pairs(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI header pairs as a lower-case name to value mapping (latin-1, the first value)."""
    headers: dict[str, str] = {}
    for key, value in pairs:
        name = key.decode("latin-1").lower()
        if name not in headers:
            headers[name] = value.decode("latin-1")
    return headers


def log_denial(denial: Denial, request: Request) -> None:
    """One warning line for a refused request: status, method, path, reason (no credential)."""
    logger.warning(
        "refused %s %s: %s %s", request.method, request.path, denial.status, denial.reason
    )
