"""The live event viewer: each event as it arrives, with its handlers' outcomes.

``veba serve --viewer`` puts it on the function's own server at ``GET /_veba/`` (knative);
``veba serve --adapter openfaas|gcf --viewer`` (waitress, whose threads open pages would hold)
and ``veba listen --viewer --viewer-port N`` on a server of its own (``http://127.0.0.1:N/``).
The page (``index.html``, plain HTML and JavaScript) follows ``/_veba/events``, a
server-sent events stream, and shows for each event its CloudEvent attributes and
extensions, its data pretty-printed, which handlers ran (or, for ``veba listen`` without a
module, the delivery to the processor), their outcome and duration; a box filters by event
name. Only the last :data:`DEFAULT_RING` events are kept (for a page opening late); nothing
else is stored. Viewers are answered from loopback only by default.

The function pays for a record (a few dicts) per event and nothing for JSON until a page
reads it; a page that falls behind by :data:`DEFAULT_BACKLOG` events is dropped and
reconnects (see :mod:`veba_sdk.viewer._feed`).

From Python::

    from veba_sdk.viewer import EventFeed, ViewerApp, ViewerObserver, with_viewer
    feed = EventFeed()
    router.add_observer(ViewerObserver(feed))
    app = with_viewer(asgi(router), ViewerApp(feed))
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from .._extras import needs_extra
from ._app import PREFIX, ViewerApp, with_viewer
from ._feed import DEFAULT_BACKLOG, DEFAULT_RING, EventFeed, EventRecord, Subscriber
from ._record import ObservedTarget, ViewerObserver

__all__ = [
    "DEFAULT_BACKLOG",
    "DEFAULT_RING",
    "PREFIX",
    "EventFeed",
    "EventRecord",
    "ObservedTarget",
    "Subscriber",
    "ViewerApp",
    "ViewerObserver",
    "ViewerServer",
    "with_viewer",
]


class ViewerServer:
    """The viewer on a server of its own (uvicorn in a daemon thread), at ``/``.

    Args:
        feed: the events to show.
        host, port: where to listen (loopback by default; port 0 picks a free one).
        allow_remote: answer clients that are not on loopback too.
    """

    def __init__(
        self,
        feed: EventFeed,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
    ) -> None:

        with needs_extra("cli", "veba_sdk.viewer.ViewerServer"):
            import uvicorn

        self.feed = feed
        config = uvicorn.Config(
            ViewerApp(feed, prefix="", allow_remote=allow_remote),
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once the socket listens.

        Raises:
            OSError: the port cannot be bound (bound here, in the caller's thread, so the
                error is the bind's own: ``Address already in use``).
        """
        config = self._server.config
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((config.host, config.port))
        except OSError as exc:
            sock.close()
            where = f"{config.host}:{config.port}"
            reason = exc.strerror or str(exc)
            raise OSError(f"the event viewer could not listen on {where}: {reason}") from None
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self._server.run(sockets=[sock])
            except BaseException as exc:  # SystemExit from uvicorn when it cannot serve
                failure.append(exc)
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name="veba-viewer", daemon=True)
        self._thread.start()
        while not self._server.started:
            if failure or not self._thread.is_alive():
                raise OSError(f"the event viewer could not listen: {failure[:1] or 'exited'}")
            self._thread.join(0.02)
            timeout -= 0.02
            if timeout <= 0:
                raise OSError("the event viewer did not start")

    @property
    def port(self) -> int:
        """The port listened on (the one picked, for port 0)."""
        servers: Any = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._server.config.port)

    def close(self) -> None:
        """Stop serving (open pages are cut)."""
        self._server.should_exit = True
        self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(5)
