"""The ASGI 3 transport: a :class:`~veba_sdk.adapters._runner.Runner` under uvicorn (or any
ASGI server), with the lifespan protocol and the serving GC threshold.

This is the hot path of every Knative function, so the request is read in one pass: the
CloudEvent's ``ce-`` headers and the two headers the app needs first come out of one loop over
the ASGI pairs, and the decoder takes them as read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from .._router import Router
from ..auth import Authenticator
from ..events.http import read_asgi_headers
from ._gc import DEFAULT_YOUNG_THRESHOLD, YoungThreshold
from ._runner import Adapter, ReplyMode, Request, Runner
from .response import NO_CONTENT, Response

if TYPE_CHECKING:
    from ..metrics import PrometheusMetrics

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "send_response"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The usual answer's messages: 204, no headers (RFC 9110 forbids Content-Length there). Servers
# only read them; the headers are a tuple nobody can change.
_NO_CONTENT_START: Message = {"type": "http.response.start", "status": 204, "headers": ()}
_EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}


async def send_response(send: Send, response: Response, *, head: bool = False) -> None:
    """Write ``response`` as the two ASGI messages (no body for ``HEAD``)."""
    if response is NO_CONTENT:  # the usual answer, ready-made
        await send(_NO_CONTENT_START)
        await send(_EMPTY_BODY)
        return
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": response.raw_headers(),
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else response.body})


class ASGIApp(Adapter):
    """A plain ASGI 3 application serving a :class:`~veba_sdk.Router` (see
    :func:`veba_sdk.adapters.knative.asgi`).

    Attributes:
        runner: the pipeline and status policy it applies.
        gc_threshold: the garbage collector threshold held while the server runs.
    """

    def __init__(
        self,
        router: Router,
        *,
        max_body: int,
        reply_mode: ReplyMode,
        gc_threshold: int | None = DEFAULT_YOUNG_THRESHOLD,
        auth: Authenticator | None = None,
        metrics: bool | PrometheusMetrics | None = None,
    ) -> None:
        self.runner = Runner(
            router, max_body=max_body, reply_mode=reply_mode, auth=auth, metrics=metrics
        )
        self.gc_threshold = YoungThreshold(gc_threshold)

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1003})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.runner.ready = True
                self.gc_threshold.apply()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.runner.ready = False
                self.gc_threshold.restore()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point: ``http`` and ``lifespan`` scopes; websockets are refused."""
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):  # mounted under a prefix: probes are relative
            path = path[len(root) :]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        request = Request(scope["method"], path, headers, scope)
        try:  # one pass over the pairs; headers it cannot read are the decoder's to answer
            (
                request.attributes,
                request.ce_content_type,
                request.content_type,
                request.declared,
            ) = read_asgi_headers(headers)
        except Exception:
            for key, value in headers:  # ASGI header names are lower-case
                if key == b"content-type":
                    request.content_type = value
                elif key == b"content-length":
                    request.declared = value
        # The three steps of the pipeline, the body read from ``receive`` between the first
        # two. With no sender check nothing but the body and the handlers waits, so the
        # runner's steps are called directly, not as coroutines: this runs for every event.
        runner = self.runner
        checked = runner.auth is not None
        answer = await runner.head_async(request) if checked else runner.head(request)
        if answer is None:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body: bytes = message.get("body", b"")
            if message.get("more_body", False):
                rest = await _read_rest(receive, body, runner.max_body)
                if rest is None:
                    return
                body = rest
            request.body = body
            answer = await runner.body_async(request) if checked else runner.body(request)
            if answer is None:
                answer = await runner.deliver_async(request)
        await send_response(send, answer, head=request.method == "HEAD")

    def __repr__(self) -> str:
        return f"<knative ASGIApp {self.router!r} reply_mode={self.runner.reply_mode!r}>"


async def _read_rest(receive: Receive, first: bytes, max_body: int) -> bytes | None:
    """The rest of a body sent in several messages, stopping once it exceeds ``max_body``
    (``None`` when the client went away)."""
    chunks = [first]
    size = len(first)
    while size <= max_body:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
