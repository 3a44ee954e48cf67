"""The viewer's HTTP side: an ASGI app serving the page and the server-sent events feed.

``GET {prefix}/`` is the page (``index.html`` beside this module: plain HTML and JavaScript,
no external assets); ``GET {prefix}/events`` the feed as ``text/event-stream`` (the ring's
records first, or those after the ``Last-Event-ID`` a reconnecting page sends, then each new
one; a comment line every 15 s keeps proxies from closing it). Only loopback clients are
answered unless ``allow_remote``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from importlib import resources
from typing import Any

from ._feed import EventFeed

__all__ = ["PREFIX", "ViewerApp", "with_viewer"]

#: Where ``veba serve --viewer`` mounts the viewer on the function's server.
PREFIX = "/_veba"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEARTBEAT = 15.0


@cache
def page() -> bytes:
    """The viewer page (read once)."""
    return resources.files(__package__).joinpath("index.html").read_bytes()


def _loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _is_loopback(scope: Scope) -> bool:
    """A loopback client asking for a loopback host: the ``Host`` check keeps a web page
    whose name was rebound to 127.0.0.1 (DNS rebinding) from reading the feed."""
    client = scope.get("client")
    if not client or not _loopback_name(str(client[0])):
        return False
    for key, value in scope.get("headers", []):
        if key == b"host":
            host = value.decode("latin-1")
            if host.startswith("["):  # [::1]:8080
                host = host[1 : host.find("]")]
            else:
                host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            return _loopback_name(host)
    return True  # HTTP/1.0 without Host: only a local client could have sent it


async def _plain(send: Send, status: int, text: str, headers: list[Any] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


class ViewerApp:
    """The live viewer as an ASGI app mounted at ``prefix``.

    Args:
        feed: the events to show.
        prefix: the path the page lives under (``/_veba``; ``""`` for a server of its own).
        allow_remote: answer clients that are not on loopback too.
    """

    def __init__(self, feed: EventFeed, *, prefix: str = PREFIX, allow_remote: bool = False):
        self.feed = feed
        self.prefix = prefix.rstrip("/")
        self.allow_remote = allow_remote

    def handles(self, path: str) -> bool:
        """Whether a request path is the viewer's."""
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the page, the feed, a redirect to the page, 403 or 404."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan":  # served alone (veba listen): nothing to start
                while True:
                    message = await receive()
                    kind = message["type"].rpartition(".")[2]
                    await send({"type": f"lifespan.{kind}.complete"})
                    if kind == "shutdown":
                        return
            return
        if not self.allow_remote and not _is_loopback(scope):
            await _plain(
                send, 403, "the event viewer answers loopback clients at a loopback address only\n"
            )
            return
        path = scope["path"][len(self.prefix) :]
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, "GET only\n", [(b"allow", b"GET, HEAD")])
        elif path == "":
            location = (self.prefix + "/").encode()
            await _plain(send, 308, "see /\n", [(b"location", location)])
        elif path in ("/", "/index.html"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"cache-control", b"no-cache"),
                        (b"content-security-policy", b"default-src 'self' 'unsafe-inline'"),
                    ],
                }
            )
            body = b"" if scope["method"] == "HEAD" else page()
            await send({"type": "http.response.body", "body": body})
        elif path == "/events":
            await self._stream(scope, receive, send)
        else:
            await _plain(send, 404, "not found\n")

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        after = 0
        for key, value in scope.get("headers", []):
            if key == b"last-event-id" and value.isdigit():
                after = int(value)
        subscriber, recent = self.feed.subscribe(after=after, loop=asyncio.get_running_loop())
        gone = asyncio.Event()

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            subscriber.close()

        watcher = asyncio.ensure_future(watch_disconnect())
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-cache"),
                        (b"x-accel-buffering", b"no"),
                    ],
                }
            )
            chunk = "retry: 1000\n\n" + "".join(_event(r.seq, r.json()) for r in recent)
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
            while not gone.is_set():
                records = await subscriber.wait_async(_HEARTBEAT)
                if subscriber.dropped:  # fell too far behind: the page reconnects and resumes
                    break
                text = "".join(_event(r.seq, r.json()) for r in records) or ": keep-alive\n\n"
                if gone.is_set():
                    break
                await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.feed.unsubscribe(subscriber)
            watcher.cancel()


def _event(seq: int, text: str) -> str:
    return f"id: {seq}\nevent: veba\ndata: {text}\n\n"


def with_viewer(app: ASGI, viewer: ViewerApp) -> ASGI:
    """``app`` with the viewer answering the requests under its prefix."""

    async def combined(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and viewer.handles(scope["path"]):
            await viewer(scope, receive, send)
        else:
            await app(scope, receive, send)

    return combined
