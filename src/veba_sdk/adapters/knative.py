"""Knative: the router as an ASGI or WSGI app speaking the CloudEvents HTTP binding.

Every adapter runs the same pipeline (:mod:`veba_sdk.adapters._runner`: recognise the request,
decode it, dispatch, answer by the status policy); this module only picks the transport:

* :func:`asgi` for uvicorn (or any ASGI 3 server); ``async def`` handlers run on the loop and
  plain ``def`` handlers in a worker thread.
* :func:`wsgi` for gunicorn or waitress.
* :func:`new` for Knative's ``func`` (func-python): ``func create -l python`` functions whose
  ``function/__init__.py`` exports ``new``.

A handler's reply event (``ctx.reply(...)``) is the response, which a Knative broker publishes
to its channel; it is sent in binary mode unless ``reply_mode="structured"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, cast

from .._errors import InvalidEvent
from .._router import Router
from ..auth import Authenticator
from ..events import from_cloudevent
from ..logging import setup as setup_logging
from ..wire import DEFAULT_MAX_BODY
from ._asgi import ASGIApp, Message, Receive, Scope, Send, send_response
from ._gc import DEFAULT_YOUNG_THRESHOLD
from ._runner import ReplyMode, Request, preflight
from ._wsgi import WSGIApp
from .response import Response, invalid, plain

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


class CloudEventSender(Protocol):
    """The ``send`` func-python's CloudEvents middleware hands to ``handle``.

    It encodes CloudEvents itself; ``http`` is the plain ASGI ``send`` underneath.
    """

    async def http(self, message: Message) -> None:
        """Send a raw ASGI message."""


def asgi(
    router: Router,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    reply_mode: ReplyMode = "binary",
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
            router's events and serves them on ``GET /metrics``, behind ``auth`` like every
            other request (see :mod:`veba_sdk.metrics`).

    The app answers ``POST`` with a CloudEvent (binary, structured or a
    ``application/cloudevents-batch+json`` batch, each of whose events is dispatched), serves
    ``/health/liveness`` and ``/health/readiness``, and supports the lifespan protocol.
    """
    app = ASGIApp(
        router,
        max_body=max_body,
        reply_mode=reply_mode,
        gc_threshold=gc_threshold,
        auth=auth,
        metrics=metrics,
    )
    setup_logging()
    return app


def wsgi(
    router: Router,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    reply_mode: ReplyMode = "binary",
    auth: Authenticator | None = None,
    metrics: bool | PrometheusMetrics = False,
) -> WSGIApp:
    """The router as a WSGI app (``gunicorn module:app``), with the same behaviour as :func:`asgi`.

    Handlers run in the server's worker; ``async def`` handlers on a private per-thread loop.
    ``auth`` is as for :func:`asgi`, and ``metrics`` (each gunicorn worker process counts
    its own events: run one worker, or see :mod:`veba_sdk.metrics`).
    """
    app = WSGIApp(router, max_body=max_body, reply_mode=reply_mode, auth=auth, metrics=metrics)
    setup_logging()
    return app


class FuncFunction:
    """What func-python serves: ``handle`` plus the optional lifecycle and health hooks.

    Works under both of func-python's middlewares: the HTTP one (``handle`` gets the raw
    request) and the CloudEvents one (the event is already decoded into ``scope["event"]``
    and ``send`` encodes CloudEvents; its raw ``send.http`` is used here).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.config: dict[str, str] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send | CloudEventSender) -> None:
        """Serve one request (health probes are answered by func-python itself)."""
        raw_send = cast(Send, getattr(send, "http", send))
        event = scope.get("event")
        if event is None:
            await self.app(scope, receive, raw_send)
            return
        method = str(scope.get("method", "POST"))
        response = await self._decoded(event, method, str(scope.get("path", "/")), scope)
        await send_response(raw_send, response, head=method == "HEAD")

    async def _decoded(self, event: object, method: str, path: str, scope: Scope) -> Response:
        """The pipeline for an event the CloudEvents middleware has read and decoded."""
        runner = self.app.runner
        early = preflight(method, path, ready=runner.ready)
        if early is not None:
            return early
        if runner.auth is not None:
            # The middleware has read and decoded the body: a check that needs its bytes
            # (HMAC) cannot run here, so it refuses rather than let events through.
            if runner.auth.needs_body:
                return plain(401, "the sender check needs the raw body (func's HTTP mode)")
            request = Request(method, path, scope.get("headers") or [])
            denied = await runner.refused_async(request, None)
            if denied is not None:
                return denied
        try:
            envelope = from_cloudevent(event)
        except InvalidEvent as exc:
            return invalid(exc)
        return await runner.answer_async([envelope], scope)

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
    reply_mode: ReplyMode = "binary",
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
    ``max_body``, ``reply_mode``, ``gc_threshold``, ``auth`` and ``metrics`` are as for
    :func:`asgi` (the threshold is applied by ``start`` and put back by ``stop``; ``GET
    /metrics`` reaches ``handle`` under func-python's HTTP middleware).
    """
    if router is None:
        from .. import router as default_router  # made on first use, not by every import

        router = default_router
    return FuncFunction(
        asgi(
            router,
            max_body=max_body,
            reply_mode=reply_mode,
            gc_threshold=gc_threshold,
            auth=auth,
            metrics=metrics,
        )
    )
