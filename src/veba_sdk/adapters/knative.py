"""Knative: the router as an ASGI or WSGI app speaking the CloudEvents HTTP binding.

Three steps, as in every adapter: recognise the request (health probe, wrong method, size),
convert it in (binary, structured or batch CloudEvents, decoded by our own HTTP-binding
decoder straight from the ASGI header pairs), convert the result out (the status policy of
:mod:`veba_sdk.adapters._http_common`).

* :func:`asgi` for uvicorn (or any ASGI 3 server); ``async def`` handlers run on the loop and
  plain ``def`` handlers in a worker thread.
* :func:`wsgi` for gunicorn or waitress.
* :func:`new` for Knative's ``func`` (func-python): ``func create -l python`` functions whose
  ``function/__init__.py`` exports ``new``.

A handler's reply event (``ctx.reply(...)``) is the response, which a Knative broker publishes
to its channel; it is sent in binary mode unless ``reply_mode="structured"``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from .._errors import InvalidEvent
from .._router import Router
from ..auth import Authenticator
from ..events import Envelope, from_cloudevent
from ..events.http import decode_http, decode_http_read, read_asgi_headers
from ..logging import setup as setup_logging
from . import _http_common as http
from ._auth import environ_headers, refused, refused_async, resolve
from ._gc import DEFAULT_YOUNG_THRESHOLD, YoungThreshold
from ._http_common import DEFAULT_MAX_BODY, Response

if TYPE_CHECKING:
    from ..metrics import PrometheusMetrics

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_YOUNG_THRESHOLD",
    "ASGIApp",
    "FuncFunction",
    "WSGIApp",
    "asgi",
    "new",
    "wsgi",
]

#: At most this many bytes of an oversized body are read (and dropped) by the WSGI app.
DRAIN_LIMIT = 64 << 20

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
StartResponse = Callable[..., Any]

# The headers of a 204 (what Response(204, []).raw_headers() gives: none, as RFC 9110 forbids
# Content-Length there), as a tuple nobody can change.
_NO_CONTENT: tuple[tuple[bytes, bytes], ...] = ()


class CloudEventSender(Protocol):
    """The ``send`` func-python's CloudEvents middleware hands to ``handle``.

    It encodes CloudEvents itself; ``http`` is the plain ASGI ``send`` underneath.
    """

    async def http(self, message: Message) -> None:
        """Send a raw ASGI message."""


async def _send(send: Send, response: Response, *, head: bool = False) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": response.raw_headers(),
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else response.body})


class ASGIApp:
    """A plain ASGI 3 application serving a :class:`~veba_sdk.Router` (see :func:`asgi`)."""

    def __init__(
        self,
        router: Router,
        *,
        max_body: int,
        reply_mode: str,
        gc_threshold: int | None = DEFAULT_YOUNG_THRESHOLD,
        auth: Authenticator | None = None,
    ) -> None:
        http.check_options(max_body, reply_mode)
        self.router = router
        self.max_body = max_body
        self.reply_mode = reply_mode
        self.auth = resolve(auth)
        self.ready = True
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
                self.ready = True
                self.gc_threshold.apply()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                self.gc_threshold.restore()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point: ``http`` and ``lifespan`` scopes; websockets are refused.

        An HTTP request gets a probe's answer, 405, 413, or is decoded, dispatched and
        answered, all here: one coroutine per request, as this runs for every event.
        """
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):  # mounted under a prefix: probes are relative
            path = path[len(root) :]
        if method != "POST" or path in http.HEALTH_PATHS:  # what preflight answers
            early = http.preflight(method, path, ready=self.ready)
            if early is not None:
                await _send(send, early, head=method == "HEAD")
                return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        auth = self.auth
        if auth is not None and not auth.needs_body:  # refused before the body is read
            denied = await refused_async(auth, method, path, headers, None)
            if denied is not None:
                await _send(send, denied)
                return
        # One pass reads the CloudEvent's headers and the two the app needs first. Headers it
        # cannot read are left to decode_one below, which answers them as before.
        attributes: dict[str, Any] | None
        try:
            attributes, ce_content_type, content_type, length = read_asgi_headers(headers)
        except Exception:
            attributes = ce_content_type = content_type = length = None
            for key, value in headers:  # ASGI header names are lower-case
                if key == b"content-type":
                    content_type = value
                elif key == b"content-length":
                    length = value
        max_body = self.max_body
        if length is not None:
            # ASCII digits (bytes.isdigit) are what declared_length reads, without its decoding.
            declared = int(length) if length.isdigit() else http.declared_length(length)
            if declared is not None and declared > max_body:
                await _send(send, http.too_large(max_body))
                return
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            rest = await _read_rest(receive, body, max_body)
            if rest is None:  # the client went away
                return
            body = rest
        if len(body) > max_body:
            await _send(send, http.too_large(max_body))
            return
        if auth is not None and auth.needs_body:  # checked before the body is decoded
            denied = await refused_async(auth, method, path, headers, body)
            if denied is not None:
                await _send(send, denied)
                return
        # The usual request is one event: decoded and dispatched here, without the layers a
        # batch needs; a batch takes the general path.
        if (
            content_type is not None
            and content_type != b"application/json"  # cheap tests first: is_batch decodes
            and b"batch" in content_type.lower()
            and http.is_batch(content_type)
        ):
            await _send(send, await self._respond(headers, body, content_type, scope))
            return
        try:
            if attributes is None:
                envelope = decode_http(headers, body, max_body=max_body)
            else:
                envelope = decode_http_read(attributes, ce_content_type, body, max_body=max_body)
        except Exception as exc:
            await _send(send, http.undecodable(exc))
            return
        try:
            result = await self.router.dispatch_async(envelope, platform_context=scope)
        except Exception as exc:
            await _send(send, http.dispatch_failure(envelope, exc))
            return
        if not result.failed and not result.replies and not result.values:
            # What respond() answers for it: 204, no body.
            await send({"type": "http.response.start", "status": 204, "headers": _NO_CONTENT})
            await send({"type": "http.response.body", "body": b""})
            return
        await _send(send, http.respond([result], self.reply_mode))

    async def _respond(
        self,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        content_type: bytes | None,
        scope: Scope,
    ) -> Response:
        decoded = http.decode_request(
            headers, body, batch=http.is_batch(content_type), max_body=self.max_body
        )
        if isinstance(decoded, Response):
            return decoded
        return await self.dispatch(decoded, scope)

    async def dispatch(self, events: Sequence[Envelope], scope: Scope) -> Response:
        """Dispatch decoded envelopes and answer by the status policy."""
        results = await http.dispatch_async(self.router, events, scope)
        if isinstance(results, Response):
            return results
        return http.respond(results, self.reply_mode)

    def __repr__(self) -> str:
        return f"<knative ASGIApp {self.router!r} reply_mode={self.reply_mode!r}>"


async def _read_rest(receive: Receive, first: bytes, max_body: int) -> bytes | None:
    """The rest of a body sent in several messages, stopping once it exceeds ``max_body``
    (``None`` on disconnect)."""
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


def asgi(
    router: Router,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    reply_mode: str = "binary",
    gc_threshold: int | None = DEFAULT_YOUNG_THRESHOLD,
    auth: Authenticator | None = None,
    metrics: bool | PrometheusMetrics = False,
) -> ASGIApp:
    """The router as an ASGI 3 app for Knative (``uvicorn module:app``).

    Args:
        router: the router whose handlers serve the events.
        max_body: bodies over this many bytes get 413 (the rest is never read).
        reply_mode: ``"binary"`` or ``"structured"`` encoding of a handler's reply event.
        gc_threshold: while the server runs (lifespan startup to shutdown), the garbage
            collector's youngest-generation threshold, set only if it is still CPython's
            default (700, or 2,000 from 3.13); ``None`` leaves the collector alone. Requests
            waiting for a ``def`` handler's thread otherwise trigger collections all the time
            (see :mod:`veba_sdk.adapters._gc`).
        auth: who may send events (:mod:`veba_sdk.auth`: ``OIDCAuth`` for Knative's sender
            identity, ``BasicAuth``, ``HMACAuth``); ``None`` reads ``VEBA_AUTH``, and with
            that unset every caller is served. Refused requests get 401/403 before their
            body is read (HMAC: before it is decoded).
        metrics: ``True`` (or a :class:`~veba_sdk.metrics.PrometheusMetrics`) counts the
            router's events and serves them on ``GET /metrics``, which ``auth`` does not
            guard (see :mod:`veba_sdk.metrics`).

    The app answers ``POST`` with a CloudEvent (binary, structured or a
    ``application/cloudevents-batch+json`` batch, each of whose events is dispatched), serves
    ``/health/liveness`` and ``/health/readiness``, and supports the lifespan protocol.
    """
    if metrics:
        from ..metrics._http import MeteredASGIApp

        app: ASGIApp = MeteredASGIApp(
            router,
            metrics=metrics,
            max_body=max_body,
            reply_mode=reply_mode,
            gc_threshold=gc_threshold,
            auth=auth,
        )
    else:
        app = ASGIApp(
            router, max_body=max_body, reply_mode=reply_mode, gc_threshold=gc_threshold, auth=auth
        )
    setup_logging()
    return app


class WSGIApp:
    """A WSGI application serving a :class:`~veba_sdk.Router` (see :func:`wsgi`)."""

    def __init__(
        self, router: Router, *, max_body: int, reply_mode: str, auth: Authenticator | None = None
    ) -> None:
        http.check_options(max_body, reply_mode)
        self.router = router
        self.max_body = max_body
        self.reply_mode = reply_mode
        self.auth = resolve(auth)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """The WSGI entry point."""
        response = self._respond(environ)
        headers = list(response.headers)
        if response.has_length:
            headers.append(("Content-Length", str(len(response.body))))
        start_response(response.status_line(), headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [response.body]

    def _respond(self, environ: Mapping[str, Any]) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        early = http.preflight(method, _path(environ))
        if early is not None:
            return early
        max_body = self.max_body
        declared = http.declared_length(environ.get("CONTENT_LENGTH") or None)
        stream = environ["wsgi.input"]
        auth = self.auth
        if auth is not None and not auth.needs_body:  # refused before the body is read
            denied = refused(auth, method, _path(environ), environ_headers(environ), None)
            if denied is not None:
                _discard(stream, declared)
                return denied
        if declared is not None and declared > max_body:
            _discard(stream, declared)
            return http.too_large(max_body)
        if declared is not None:
            body = stream.read(declared) if declared else b""
        else:  # chunked or unknown length: read one byte past the limit, no more
            body = stream.read(max_body + 1)
        if len(body) > max_body:
            _discard(stream, None)
            return http.too_large(max_body)
        if auth is not None and auth.needs_body:
            denied = refused(auth, method, _path(environ), environ_headers(environ), body)
            if denied is not None:
                return denied
        headers = _wsgi_headers(environ)
        decoded = http.decode_request(
            headers, body, batch=http.is_batch(headers.get("content-type")), max_body=max_body
        )
        if isinstance(decoded, Response):
            return decoded
        results = http.dispatch_sync(self.router, decoded, environ)
        if isinstance(results, Response):
            return results
        return http.respond(results, self.reply_mode)

    def __repr__(self) -> str:
        return f"<knative WSGIApp {self.router!r} reply_mode={self.reply_mode!r}>"


def _discard(stream: Any, length: int | None) -> None:
    """Read and drop what is left of an oversized body, in small pieces, up to a bound.

    WSGI servers cannot be told to close the connection (``Connection`` is hop-by-hop), and
    gunicorn closes it with the body unread, which resets it before the client reads the 413.
    Draining keeps the answer deliverable and the connection reusable; memory use stays at one
    piece, and past :data:`DRAIN_LIMIT` bytes the server's own handling takes over.
    """
    left = DRAIN_LIMIT if length is None else min(length, DRAIN_LIMIT)
    try:
        while left > 0:
            piece = stream.read(min(left, 1 << 16))
            if not piece:
                return
            left -= len(piece)
    except OSError:  # the client went away
        return


def _path(environ: Mapping[str, Any]) -> str:
    """The path within the app (``PATH_INFO``): probes work wherever the app is mounted."""
    return str(environ.get("PATH_INFO") or "/")


def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The ``ce-*`` headers and ``Content-Type`` of a WSGI request (values as latin-1 text)."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_CE_"):
            headers["ce-" + key[8:].lower().replace("_", "-")] = value
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers["content-type"] = content_type
    return headers


def wsgi(
    router: Router,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    reply_mode: str = "binary",
    auth: Authenticator | None = None,
    metrics: bool | PrometheusMetrics = False,
) -> WSGIApp:
    """The router as a WSGI app (``gunicorn module:app``), with the same behaviour as :func:`asgi`.

    Handlers run in the server's worker; ``async def`` handlers on a private per-thread loop.
    ``auth`` is as for :func:`asgi`, and ``metrics`` (each gunicorn worker process counts
    its own events: run one worker, or see :mod:`veba_sdk.metrics`).
    """
    if metrics:
        from ..metrics._http import MeteredWSGIApp

        app: WSGIApp = MeteredWSGIApp(
            router,
            metrics=metrics,
            max_body=max_body,
            reply_mode=reply_mode,
            auth=auth,
        )
    else:
        app = WSGIApp(router, max_body=max_body, reply_mode=reply_mode, auth=auth)
    setup_logging()
    return app


class FuncFunction:
    """What func-python serves: ``handle`` plus the optional lifecycle and health hooks.

    Works under both of func-python's middlewares: the HTTP one (``handle`` gets the raw
    request) and the CloudEvents one (the event is already decoded into ``scope["event"]``
    and ``send`` encodes CloudEvents; its raw ``send.http`` is used here).
    """

    def __init__(
        self,
        router: Router,
        *,
        max_body: int,
        reply_mode: str,
        gc_threshold: int | None,
        auth: Authenticator | None = None,
    ) -> None:
        self.app = ASGIApp(
            router,
            max_body=max_body,
            reply_mode=reply_mode,
            gc_threshold=gc_threshold,
            auth=auth,
        )
        self.config: dict[str, str] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send | CloudEventSender) -> None:
        """Serve one request (health probes are answered by func-python itself)."""
        raw_send = cast(Send, getattr(send, "http", send))
        event = scope.get("event")
        if event is None:
            await self.app(scope, receive, raw_send)
            return
        method = str(scope.get("method", "POST"))
        path = str(scope.get("path", "/"))
        response = http.preflight(method, path, ready=self.app.ready)
        auth = self.app.auth
        if response is None and auth is not None:
            # The CloudEvents middleware has read and decoded the body: a check that needs
            # its bytes (HMAC) cannot run here, so it refuses rather than let events through.
            if auth.needs_body:
                response = http.plain(401, "the sender check needs the raw body (func's HTTP mode)")
            else:
                headers = scope.get("headers") or []
                response = await refused_async(auth, method, path, headers, None)
        if response is None:
            try:
                envelope = from_cloudevent(event)
            except InvalidEvent as exc:
                response = http.invalid(exc)
            else:
                response = await self.app.dispatch([envelope], scope)
        await _send(raw_send, response, head=method == "HEAD")

    def start(self, cfg: Mapping[str, str]) -> None:
        """Called by func-python at startup with the environment."""
        self.config = dict(cfg)
        self.app.ready = True
        self.app.gc_threshold.apply()

    def stop(self) -> None:
        """Called by func-python at shutdown: stop reporting ready."""
        self.app.ready = False
        self.app.gc_threshold.restore()

    def alive(self) -> tuple[bool, str]:
        """Liveness: the process serves requests."""
        return True, "OK"

    def ready(self) -> tuple[bool, str]:
        """Readiness: false once shutdown has begun."""
        return (True, "OK") if self.app.ready else (False, "not ready")

    def __repr__(self) -> str:
        return f"<knative FuncFunction {self.app.router!r}>"


def new(
    router: Router | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    reply_mode: str = "binary",
    gc_threshold: int | None = DEFAULT_YOUNG_THRESHOLD,
    auth: Authenticator | None = None,
    metrics: bool | PrometheusMetrics = False,
) -> FuncFunction:
    """The entry point of a Knative ``func`` Python function (func-python).

    func-python calls ``new()`` without arguments, so by default this serves the module-level
    router that :func:`veba_sdk.on` registers on. In the function's ``function/__init__.py``::

        from .func import new   # func.py: handlers with @on(...), and
                                # from veba_sdk.adapters.knative import new

    To serve another router, define ``def new(): return knative.new(my_router)``.
    ``max_body``, ``reply_mode``, ``gc_threshold`` and ``auth`` are as for :func:`asgi` (the
    threshold is applied by ``start`` and put back by ``stop``). With ``metrics``,
    ``GET /metrics`` reaches ``handle`` under func-python's HTTP middleware.
    """
    if router is None:
        from .. import router as default_router

        router = default_router
    function = FuncFunction(
        router, max_body=max_body, reply_mode=reply_mode, gc_threshold=gc_threshold, auth=auth
    )
    if metrics:
        function.app = asgi(
            router,
            max_body=max_body,
            reply_mode=reply_mode,
            gc_threshold=gc_threshold,
            auth=auth,
            metrics=metrics,
        )
    setup_logging()
    return function
