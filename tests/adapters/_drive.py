"""Calling ASGI and WSGI apps in-process, the way servers do, for the bulk of the fuzz tests."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

Answer = tuple[int, dict[str, str], bytes]


async def asgi_request(
    app: Any,
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    *,
    chunk: int = 65536,
) -> Answer:
    """Send one request to an ASGI app, the body in ``chunk``-sized messages.

    Returns ``(status, headers, body)``; counts how much of the body the app pulled in
    ``asgi_request.pulled`` (to check that oversized bodies are not read).
    """
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    sent: list[dict[str, Any]] = []
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(pieces):
            pulled += 1
            return {
                "type": "http.request",
                "body": pieces[pulled - 1],
                "more_body": pulled < len(pieces),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("latin-1", "replace"),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    await app(scope, receive, send)
    asgi_request.pulled_bytes = sum(len(p) for p in pieces[:pulled])  # type: ignore[attr-defined]
    assert sent, "the app sent nothing"
    assert sent[0]["type"] == "http.response.start", sent
    response_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in sent[0]["headers"]}
    response_body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], response_headers, response_body


def wsgi_request(
    app: Any,
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    send_length: bool = True,
) -> Answer:
    """Call a WSGI app with an environ built as gunicorn builds it (headers as latin-1 text)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if send_length:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ["HTTP_" + key] = value
    started: list[Any] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        started.append((status, response_headers))

    chunks = app(environ, start_response)
    response_body = b"".join(chunks)
    status, response_headers = started[0]
    return int(status.split()[0]), dict(response_headers), response_body
