"""The WSGI transport: a :class:`~veba_sdk.adapters._runner.Runner` under gunicorn or waitress.

The body is bounded before it is read: a declared length over the limit is answered unread,
and one without a length is read to at most one byte past the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._router import Router
from ..auth import Authenticator
from ._runner import Adapter, ReplyMode, Request, Runner, declared_length
from .response import Response, too_large

if TYPE_CHECKING:
    from ..metrics import PrometheusMetrics

__all__ = ["DRAIN_LIMIT", "StartResponse", "WSGIApp", "environ_headers"]

#: At most this many bytes of an oversized body are read (and dropped).
DRAIN_LIMIT = 64 << 20

StartResponse = Callable[..., Any]


class WSGIApp(Adapter):
    """A WSGI application serving a :class:`~veba_sdk.Router` (see
    :func:`veba_sdk.adapters.knative.wsgi`)."""

    def __init__(
        self,
        router: Router,
        *,
        max_body: int,
        reply_mode: ReplyMode,
        auth: Authenticator | None = None,
        metrics: bool | PrometheusMetrics | None = None,
    ) -> None:
        self.runner = Runner(
            router, max_body=max_body, reply_mode=reply_mode, auth=auth, metrics=metrics
        )

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """The WSGI entry point."""
        response = self.respond(environ)
        start_response(response.status_line(), response.wsgi_headers())
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [response.body]

    def respond(self, environ: Mapping[str, Any]) -> Response:
        """The three steps of the pipeline, reading the body from ``wsgi.input`` in between."""
        runner = self.runner
        headers = _decoder_headers(environ)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        # Every header only where something reads more than the decoder's: a sender check,
        # or a request that is no delivery (GET /metrics reads Accept).
        everything = runner.auth is not None or method != "POST"
        request = Request(method, str(environ.get("PATH_INFO") or "/"), headers, environ)
        request.content_type = headers.get("content-type")
        request.declared = environ.get("CONTENT_LENGTH") or None
        if everything:
            request.auth_headers = environ_headers(environ)
        stream = environ.get("wsgi.input")
        declared = declared_length(request.declared)
        early = runner.head(request)
        if early is not None:
            if request.method == "POST":  # refused unread: drain it so the answer is read
                _discard(stream, declared)
            return early
        if stream is None:
            body = b""
        elif declared is not None:
            body = stream.read(declared) if declared else b""
        else:  # chunked or unknown length: read one byte past the limit, no more
            body = stream.read(runner.max_body + 1)
        request.body = body
        if len(body) > runner.max_body:
            _discard(stream, None)
            return too_large(runner.max_body)
        return runner.body(request) or runner.deliver(request)

    def __repr__(self) -> str:
        return f"<knative WSGIApp {self.router!r} reply_mode={self.runner.reply_mode!r}>"


def _discard(stream: Any, length: int | None) -> None:
    """Read and drop what is left of an unread body, in small pieces, up to a bound.

    WSGI servers cannot be told to close the connection (``Connection`` is hop-by-hop), and
    gunicorn closes it with the body unread, which resets it before the client reads the answer.
    Draining keeps the answer deliverable and the connection reusable; memory use stays at one
    piece, and past :data:`DRAIN_LIMIT` bytes the server's own handling takes over.
    """
    if stream is None:
        return
    left = DRAIN_LIMIT if length is None else min(length, DRAIN_LIMIT)
    try:
        while left > 0:
            piece = stream.read(min(left, 1 << 16))
            if not piece:
                return
            left -= len(piece)
    except OSError:  # the client went away
        return


def _decoder_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The ``ce-*`` headers and ``Content-Type`` of a WSGI request (values as latin-1 text)."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_CE_"):
            headers["ce-" + key[8:].lower().replace("_", "-")] = value
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers["content-type"] = content_type
    return headers


def environ_headers(environ: Mapping[str, Any], prefix: str = "HTTP_") -> dict[str, str]:
    """Every request header of a WSGI environ (or the classic watchdog's ``Http_*``
    variables, with ``prefix="Http_"``) as lower-case name to value."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith(prefix) and isinstance(value, str):
            headers[key[len(prefix) :].lower().replace("_", "-")] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = str(environ[key])
    return headers
