"""An HTTP answer in platform-neutral form, and the one-line text answers of the status policy.

Every HTTP adapter builds a :class:`Response` and its transport writes it out (ASGI messages, a
WSGI ``start_response``, the OpenFaaS template's dict). Reasons are one line and never carry a
traceback or an exception's message, which may hold data from the event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus

from .._errors import InvalidEvent

__all__ = ["NO_CONTENT", "Response", "invalid", "plain", "too_large"]

_MAX_REASON = 300


class Response:
    """An HTTP answer in platform-neutral form.

    Attributes:
        status: the HTTP status code.
        headers: ``(name, value)`` pairs; values are ASCII (a tuple in shared answers).
        body: the response body.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Sequence[tuple[str, str]], body: bytes = b"") -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        """The value of a header (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def status_line(self) -> str:
        """``"204 No Content"``: the WSGI status line."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"

    @property
    def has_length(self) -> bool:
        """Whether the answer carries ``Content-Length``: RFC 9110 forbids it on 1xx and 204."""
        return self.status >= 200 and self.status != 204

    def wsgi_headers(self) -> list[tuple[str, str]]:
        """The headers as a WSGI server takes them, with ``Content-Length`` where allowed."""
        headers = list(self.headers)
        if self.has_length:
            headers.append(("Content-Length", str(len(self.body))))
        return headers

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ASGI byte pairs, with ``content-length`` where it is allowed."""
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        if self.has_length:
            raw.append((b"content-length", str(len(self.body)).encode("ascii")))
        return raw

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.headers!r}, {self.body[:80]!r})"


#: 204 with no headers (RFC 9110 forbids Content-Length there): the usual answer, shared.
NO_CONTENT = Response(204, ())


def _one_line(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    return reason


def plain(status: int, reason: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A one-line ``text/plain`` answer."""
    body = (_one_line(reason) + "\n").encode("utf-8")
    return Response(status, [("Content-Type", "text/plain; charset=utf-8"), *headers], body)


def invalid(exc: InvalidEvent) -> Response:
    """400 for input that is not a decodable vCenter CloudEvent."""
    return plain(400, exc.reason or "not a CloudEvent")


def too_large(max_body: int) -> Response:
    """413 for a body over the limit (the rest of it is never read)."""
    return plain(413, f"body is over the {max_body} byte limit")
