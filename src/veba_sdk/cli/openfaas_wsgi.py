"""A WSGI app with the OpenFaaS python3-http template's contract, for local serving and images.

The template's ``index.py`` builds an ``Event`` (``body``, ``headers``, ``method``, ``query``,
``path``) and a ``Context`` (``hostname``) per request, calls ``handle(event, context)`` and
answers with the returned ``{"statusCode", "body", "headers"}``. :func:`wsgi_app` does the same
with the standard library only, so a function image needs nothing but ``veba-sdk[openfaas]``
and any WSGI server (waitress, or the stdlib's ``wsgiref`` from :func:`serve`).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

__all__ = ["Context", "Event", "serve", "wsgi_app"]

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


def _body(environ: Mapping[str, Any]) -> bytes:
    """The request body, whatever its content type (``curl -d`` says form-urlencoded).

    Read by ``Content-Length``; a chunked request without one is read to its end when the
    server says the stream ends there (``wsgi.input_terminated``, as waitress does).
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not declared:
        return bytes(stream.read()) if environ.get("wsgi.input_terminated") else b""
    length = int(declared) if declared.isdigit() else 0
    return bytes(stream.read(length)) if length > 0 else b""


def wsgi_app(handle: Handle) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app calling ``handle(event, context)`` the way python3-http's ``index.py`` does."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        event = Event(
            body=_body(environ),
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
        return [data]

    return app


def serve(handle: Handle, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve ``handle`` with waitress when installed, else the standard library's wsgiref."""
    app = wsgi_app(handle)
    try:
        import waitress  # type: ignore[import-untyped]  # no stubs published
    except ImportError:
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Keep the console for the function's own logs."""

        with make_server(host, port, app, handler_class=_Quiet) as server:
            server.serve_forever()
    else:
        waitress.serve(app, host=host, port=port, _quiet=True)
