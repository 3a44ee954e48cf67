"""``GET /metrics`` on the adapters' own servers: the Knative ASGI/WSGI apps and the OpenFaaS
``handle``.

Each factory returns one of these only when asked (``metrics=True``), so an app without metrics
is the plain one and pays nothing for them; with metrics, the one extra test per request is
whether it asks for ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._router import Router
from ..adapters import _http_common as http
from ..adapters.knative import ASGIApp, Receive, Scope, Send, WSGIApp, _send
from ..adapters.openfaas import PythonHttpHandle
from ._prometheus import PrometheusMetrics, resolve_metrics

__all__ = [
    "METRICS_PATH",
    "MeteredASGIApp",
    "MeteredWSGIApp",
    "metered_openfaas",
    "resolve_metrics",
    "serve_on_flask",
]

#: Where the apps answer with the registry's samples.
METRICS_PATH = "/metrics"


def _registry(metrics: bool | PrometheusMetrics) -> PrometheusMetrics:
    registry = resolve_metrics(metrics)
    if registry is None:
        raise ValueError("a metered app needs metrics=True or a PrometheusMetrics")
    return registry


def _answer(metrics: PrometheusMetrics, accept: str | None) -> http.Response:
    body, content_type = metrics.exposition(accept)
    return http.Response(200, [("Content-Type", content_type)], body)


class MeteredASGIApp(ASGIApp):
    """:class:`~veba_sdk.adapters.knative.ASGIApp` that counts its router's events and answers
    ``GET /metrics`` (what ``knative.asgi(router, metrics=True)`` returns)."""

    def __init__(
        self, router: Router, *, metrics: bool | PrometheusMetrics = True, **options: Any
    ) -> None:
        super().__init__(router, **options)
        self.metrics = _registry(metrics)
        self.metrics.observe(router)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``GET``/``HEAD /metrics``; anything else as the plain app does."""
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            root = scope.get("root_path")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path == METRICS_PATH:
                accept = None
                for key, value in scope["headers"]:
                    if key == b"accept":
                        accept = value.decode("latin-1")
                response = _answer(self.metrics, accept)
                await _send(send, response, head=scope["method"] == "HEAD")
                return
        await ASGIApp.__call__(self, scope, receive, send)


class MeteredWSGIApp(WSGIApp):
    """:class:`~veba_sdk.adapters.knative.WSGIApp` that counts its router's events and answers
    ``GET /metrics`` (what ``knative.wsgi(router, metrics=True)`` returns)."""

    def __init__(
        self, router: Router, *, metrics: bool | PrometheusMetrics = True, **options: Any
    ) -> None:
        super().__init__(router, **options)
        self.metrics = _registry(metrics)
        self.metrics.observe(router)

    def _respond(self, environ: Mapping[str, Any]) -> http.Response:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and (
            environ.get("PATH_INFO") == METRICS_PATH
        ):
            return _answer(self.metrics, environ.get("HTTP_ACCEPT"))
        return super()._respond(environ)


def metered_openfaas(
    router: Router, metrics: bool | PrometheusMetrics, **options: Any
) -> PythonHttpHandle:
    """The python3-http ``handle`` of ``openfaas.handler(router, metrics=True, **options)``.

    The template's server hands every path to ``handle``, so ``GET /metrics`` reaches it on
    the function's own port (8080 in the pod; ``/function/<name>/metrics`` through the
    gateway), with the template and with :mod:`veba_sdk.cli.openfaas_wsgi` alike.
    """
    from ..adapters.openfaas import OpenFaaSEvent, handler

    registry = _registry(metrics)
    plain = handler(router, **options)
    registry.observe(router)

    def handle(event: OpenFaaSEvent, context: Any = None) -> dict[str, Any]:
        """Handle one OpenFaaS request: ``GET /metrics``, or a VEBA CloudEvent."""
        method = str(getattr(event, "method", "POST") or "POST").upper()
        if method in ("GET", "HEAD") and getattr(event, "path", None) == METRICS_PATH:
            headers = getattr(event, "headers", None) or {}
            accept = headers.get("Accept") or headers.get("accept")
            body, content_type = registry.exposition(accept)
            return {
                "statusCode": 200,
                "body": body.decode("utf-8"),
                "headers": {"Content-Type": content_type},
            }
        return plain(event, context)

    handle.__qualname__ = handle.__name__ = "handle"
    return handle


def serve_on_flask(app: Any, router: Router, metrics: bool | PrometheusMetrics = True) -> None:
    """Count ``router``'s events and answer ``GET /metrics`` on a functions-framework (Flask)
    app, as ``veba serve --adapter gcf --metrics`` does.

    functions-framework routes only ``POST`` to a CloudEvent function, so a ``GET`` rule of
    the app's own serves the samples beside it.
    """
    registry = _registry(metrics)
    registry.observe(router)

    def metrics_view() -> tuple[bytes, int, dict[str, str]]:
        from flask import request

        body, content_type = registry.exposition(request.headers.get("Accept"))
        return body, 200, {"Content-Type": content_type}

    app.add_url_rule(METRICS_PATH, "veba_metrics", metrics_view, methods=["GET"])
