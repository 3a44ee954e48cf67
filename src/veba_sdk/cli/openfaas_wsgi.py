"""A WSGI app with the OpenFaaS python3-http template's contract, for local serving and images.

The template's ``index.py`` builds an ``Event`` (``body``, ``headers``, ``method``, ``query``,
``path``) and a ``Context`` (``hostname``) per request, calls ``handle(event, context)`` and
answers with the returned ``{"statusCode", "body", "headers"}``. :func:`wsgi_app` does the same
with the standard library only, under any WSGI server; :func:`serve` runs it on waitress, the
template's production server.

The body is bounded before it is read: a declared ``Content-Length`` over ``max_body`` is
answered 413 unread (a length that is no number, 400), and a body without one (chunked, from a
server that decodes it and says the stream ends there) is read to at most ``max_body + 1``
bytes. Under waitress the server itself refuses a declared or chunked body over the limit
(413, its own text) and hands the app only complete requests, so slow clients hold no thread.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from .._extras import needs_extra
from ..adapters.response import Response, plain, too_large
from ..wire import DEFAULT_MAX_BODY

__all__ = ["Context", "Event", "serve", "serve_wsgi", "wsgi_app"]

StartResponse = Callable[..., Any]
Handle = Callable[[Any, Any], Any]


class Event:
    """The request as the python3-http template hands it to ``handle``."""

    __slots__ = ("body", "headers", "method", "path", "query")

    def __init__(
        self, body: bytes, headers: dict[str, str], method: str, query: dict[str, Any], path: str
    ) -> None:
        self.body = body
        self.headers = headers
        self.method = method
        self.query = query
        self.path = path


class Context:
    """The template's context: the host name of the function instance."""

    __slots__ = ("hostname",)

    def __init__(self) -> None:
        self.hostname = os.environ.get("HOSTNAME", socket.gethostname())


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = str(value)
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = str(environ["CONTENT_LENGTH"])
    return headers


_MAX_LENGTH_DIGITS = 19  # 10**19 bytes: more than any limit; longer numbers are not read as ints


def _body(environ: Mapping[str, Any], max_body: int) -> bytes | Response:
    """The request body, whatever its content type (``curl -d`` says form-urlencoded), or
    the 400/411/413 answer.

    Bounded before reading: a declared ``Content-Length`` over ``max_body`` is never read; a
    body without one is read when the server says the stream ends there
    (``wsgi.input_terminated``, as waitress and gunicorn do), to at most ``max_body + 1`` bytes.
    """
    stream = environ.get("wsgi.input")
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not declared:
        if stream is None:
            return b""
        if environ.get("wsgi.input_terminated"):
            data = bytes(stream.read(max_body + 1))
            return too_large(max_body) if len(data) > max_body else data
        if environ.get("HTTP_TRANSFER_ENCODING"):
            return plain(411, "a body without Content-Length needs a server that decodes it")
        return b""
    if not (declared.isascii() and declared.isdigit()):
        return plain(400, "Content-Length is not a number")
    if len(declared) > _MAX_LENGTH_DIGITS or int(declared) > max_body:
        return too_large(max_body)
    length = int(declared)
    if length == 0 or stream is None:
        return b""
    return bytes(stream.read(length))


def _answer(response: Response, start_response: StartResponse) -> Iterable[bytes]:
    headers = list(response.headers)
    if response.has_length:
        headers.append(("Content-Length", str(len(response.body))))
    start_response(response.status_line(), headers)
    return [response.body]


def wsgi_app(
    handle: Handle, *, max_body: int = DEFAULT_MAX_BODY
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app calling ``handle(event, context)`` the way python3-http's ``index.py`` does.

    Args:
        handle: the template's ``handle(event, context)``.
        max_body: bodies over this many bytes are answered 413 without being read (give the
            handler's own limit when it is not the default).
    """

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_body = _body(environ, max_body)
        if isinstance(request_body, Response):
            return _answer(request_body, start_response)
        event = Event(
            body=request_body,
            headers=_headers(environ),
            method=str(environ.get("REQUEST_METHOD", "GET")),
            query=parse_qs(str(environ.get("QUERY_STRING", ""))),
            path=str(environ.get("PATH_INFO", "/") or "/"),
        )
        result = handle(event, Context())
        status, body, headers = 200, result, {}
        if isinstance(result, dict) and "statusCode" in result:
            status = int(result["statusCode"])
            body = result.get("body", "")
            headers = dict(result.get("headers") or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        data = body if isinstance(body, bytes) else str(body if body is not None else "").encode()
        if status >= 200 and status != 204:  # RFC 9110: no Content-Length on 1xx and 204
            headers["Content-Length"] = str(len(data))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        start_response(f"{status} {phrase}".strip(), list(headers.items()))
        # No body on HEAD (RFC 9110); Flask strips it in the template, waitress would send it.
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [data]

    return app


def serve(
    handle: Handle,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    threads: int = 4,
) -> None:
    """Serve ``handle`` on waitress, as the python3-http template's ``index.py`` does.

    waitress reads each request whole (headers and body, spooling bodies over 512 KB to a
    temporary file) on its event loop before a worker thread runs the app, so slow or stalled
    clients hold no thread; it refuses a declared or chunked body over ``max_body`` with 413
    before reading it, and decodes chunked bodies.

    Args:
        handle: the template's ``handle(event, context)``.
        host: the interface to bind.
        port: the TCP port.
        max_body: the largest body accepted, in bytes.
        threads: worker threads running ``handle`` (waitress's default, the template's).

    Raises:
        MissingExtra: waitress is not installed (``pip install 'veba-sdk[cli]'``).
    """
    serve_wsgi(wsgi_app(handle, max_body=max_body), host, port, max_body=max_body, threads=threads)


def serve_wsgi(
    app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    threads: int = 4,
) -> None:
    """Serve any WSGI ``app`` on waitress with the bounds of :func:`serve`.

    ``veba serve`` runs functions-framework's Flask app this way too.

    Raises:
        MissingExtra: waitress is not installed (``pip install 'veba-sdk[cli]'``).
    """
    with needs_extra("cli", "veba serve"):
        import waitress  # typed by types-waitress (the test extra)

    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        # ">= max_request_body_size" is refused: a body of exactly max_body is accepted.
        max_request_body_size=max_body + 1,
        _quiet=True,
    )
