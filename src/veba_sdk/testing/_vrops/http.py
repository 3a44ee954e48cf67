"""The stand-in's HTTP front ends, each on a real toolkit.

* in-process: :class:`httpx.MockTransport` (one for sync clients, one for async clients);
* on loopback: an ASGI app served by uvicorn (:func:`serve`), the request made an
  :class:`httpx.Request` so the same :class:`~.exchange.Exchange` answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, Literal

import httpx

from veba_sdk._extras import needs_extra
from veba_sdk.testing._vrops.exchange import Exchange

__all__ = ["LogLevel", "asgi_app", "async_transport", "serve", "sync_transport"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: uvicorn's log levels.
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]

RESET = "connection reset by FakeVrops"


def sync_transport(exchange: Exchange) -> httpx.MockTransport:
    """An in-process transport for :class:`httpx.Client`; delays sleep the caller's thread."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = exchange.answer(request)
        if answer.delay:
            time.sleep(answer.delay)
        if answer.response is None:
            raise httpx.ConnectError(RESET, request=request)
        return answer.response

    return httpx.MockTransport(handle)


def async_transport(exchange: Exchange) -> httpx.MockTransport:
    """An in-process transport for :class:`httpx.AsyncClient`; delays yield to the loop."""

    async def handle(request: httpx.Request) -> httpx.Response:
        answer = exchange.answer(request)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.response is None:
            raise httpx.ConnectError(RESET, request=request)
        return answer.response

    return httpx.MockTransport(handle)


@functools.lru_cache(maxsize=4096)
def _url(target: bytes) -> httpx.URL:
    """The URL of a request target (clients repeat theirs: parsing a URL costs ~20 us)."""
    return httpx.URL("http://fake-vrops" + target.decode("latin-1"))


def asgi_app(exchange: Exchange) -> ASGIApp:
    """The stand-in as an ASGI application (HTTP and lifespan), for a real server."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        request = httpx.Request(
            scope["method"], _url(target), headers=scope["headers"], content=body
        )
        answer = exchange.answer(request)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.response is None:
            # Start a response, then fail: the server drops the connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1024")],
                }
            )
            raise httpx.ConnectError(RESET)
        response = answer.response
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.headers.raw,
            }
        )
        stream = response.stream
        content = b"".join(stream) if isinstance(stream, httpx.SyncByteStream) else response.content
        await send({"type": "http.response.body", "body": content})

    return app


@contextlib.contextmanager
def serve(app: ASGIApp, *, host: str, log_level: LogLevel) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of ``host`` in a thread; yields the base URL."""
    with needs_extra("knative", "FakeVrops.serve"):
        import uvicorn

    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only
    # then, and without it every response with a body waits ~40 ms (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level=log_level, access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="FakeVrops-uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
