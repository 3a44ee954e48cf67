"""OpenTelemetry tracing of events, handlers and vROps calls (``pip install veba-sdk[otel]``).

Nothing to call: spans are made whenever an OpenTelemetry tracer provider is configured (the
SDK's ``trace.set_tracer_provider(...)``, or ``opentelemetry-instrument``) before a router's
first event. A router looks once, on its first event, and only if something imported
``opentelemetry.trace`` already: without OpenTelemetry, or without a provider, nothing is
imported and dispatch costs what it did.

For each event, a span named after the event (``EnteredMaintenanceModeEvent``, kind
``CONSUMER``) continues the trace of

1. the CloudEvent's ``traceparent``/``tracestate`` extension (the CloudEvents distributed
   tracing extension), else
2. the HTTP request's W3C ``traceparent``/``tracestate`` headers (Knative propagates them),
   else
3. whatever span is current (a server span of your own instrumentation).

Inside it, a span per handler (named after the handler, kind ``INTERNAL``) is current while
the handler runs, so spans the handler makes, its log records' ``trace_id``/``span_id`` (in the
JSON log format) and its vROps calls (one ``CLIENT`` span per HTTP request of a
``VropsClient`` or ``AsyncVropsClient``, with the ``traceparent`` header sent along) belong
to it. Those spans come from a hook on the vROps clients' own request path
(:func:`veba_sdk.vrops.set_request_hook`): no other ``httpx`` client is patched or traced.
Both carry the OpenTelemetry CloudEvents attributes ``cloudevents.event_id``,
``cloudevents.event_source``, ``cloudevents.event_type``, ``cloudevents.event_subject``,
``cloudevents.event_spec_version`` and ``faas.trigger`` = ``pubsub``; a handler that raised
has its span's status ``ERROR`` and the exception recorded as a span event.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ._extras import needs_extra
from ._observe import DispatchObserver

if TYPE_CHECKING:
    import httpx
    from opentelemetry.context import Context as OtelContext
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from ._router import DispatchResult, Route
    from .events import Envelope

__all__ = ["TracingObserver", "log_fields", "tracing_observer"]

_lock = threading.Lock()
_observer: TracingObserver | None = None
_observer_provider: object = None
#: The tracer of the observer whose handler span is current: vROps requests then get client
#: spans from it. ``None`` outside handlers.
_handler_tracer: ContextVar[Tracer | None] = ContextVar("veba_traced_handler", default=None)


def tracing_observer() -> TracingObserver | None:
    """The observer making spans, when an OpenTelemetry tracer provider is configured.

    ``None`` when OpenTelemetry is not installed or no provider was set (the API's default
    proxy or no-op provider). One observer per provider, made on first call.
    """
    global _observer, _observer_provider
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    with _lock:
        if _observer is None or _observer_provider is not provider:
            _observer = TracingObserver(provider)
            _observer_provider = provider
        return _observer


def _cloudevent_attributes(envelope: Envelope) -> dict[str, str]:
    attributes = envelope.attributes
    fields = {
        "cloudevents.event_id": attributes.get("id"),
        "cloudevents.event_source": attributes.get("source"),
        "cloudevents.event_type": attributes.get("type"),
        "cloudevents.event_subject": attributes.get("subject"),
        "cloudevents.event_spec_version": attributes.get("specversion"),
    }
    span_attributes = {key: str(value) for key, value in fields.items() if value is not None}
    span_attributes["faas.trigger"] = "pubsub"
    span_attributes["veba.event.name"] = envelope.name
    span_attributes["veba.event.producer"] = envelope.producer
    return span_attributes


def _header_carrier(platform_context: Any) -> dict[str, str]:
    """The ``traceparent``/``tracestate`` headers of the request an event came in, from an
    ASGI scope, a WSGI environ or an object with ``headers`` (OpenFaaS, Flask)."""
    carrier: dict[str, str] = {}
    if isinstance(platform_context, Mapping):
        headers = platform_context.get("headers")
        if platform_context.get("type") == "http" and isinstance(headers, list):
            for key, value in headers:  # ASGI: lower-case byte names
                if key in (b"traceparent", b"tracestate"):
                    carrier[key.decode("latin-1")] = value.decode("latin-1")
            return carrier
        for name in ("traceparent", "tracestate"):
            value = platform_context.get("HTTP_" + name.upper())  # WSGI environ
            if isinstance(value, str):
                carrier[name] = value
        return carrier
    headers = getattr(platform_context, "headers", None)
    getter = getattr(headers, "get", None)
    if callable(getter):
        for name in ("traceparent", "tracestate"):
            value = getter(name) or getter(name.title())
            if isinstance(value, str):
                carrier[name] = value
    return carrier


class TracingObserver(DispatchObserver):
    """Makes the event and handler spans (see the module's description).

    Args:
        provider: the tracer provider to get the ``veba_sdk`` tracer from.
    """

    def __init__(self, provider: TracerProvider) -> None:

        with needs_extra("otel", "veba_sdk.tracing.TracingObserver"):
            from opentelemetry import context, trace
            from opentelemetry.trace.propagation.tracecontext import (
                TraceContextTextMapPropagator,
            )

        self._trace = trace
        self._context = context
        self._propagator = TraceContextTextMapPropagator()
        self.tracer: Tracer = provider.get_tracer("veba_sdk")

    def parent_context(self, envelope: Envelope, platform_context: Any) -> OtelContext | None:
        """The context an event's span continues: its CloudEvent ``traceparent``, else the
        request's headers, else ``None`` (the current one)."""
        attributes = envelope.attributes
        traceparent = attributes.get("traceparent")
        carrier: dict[str, str]
        if isinstance(traceparent, str):
            carrier = {"traceparent": traceparent}
            tracestate = attributes.get("tracestate")
            if isinstance(tracestate, str):
                carrier["tracestate"] = tracestate
        else:
            carrier = _header_carrier(platform_context)
        if not carrier:
            return None
        extracted = self._propagator.extract(carrier)
        # An unreadable traceparent extracts to nothing: keep the current context then.
        if not self._trace.get_current_span(extracted).get_span_context().is_valid:
            return None
        return extracted

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        """Start the event's span and make it current."""
        attributes = _cloudevent_attributes(envelope)
        span = self.tracer.start_span(
            envelope.name,
            context=self.parent_context(envelope, platform_context),
            kind=self._trace.SpanKind.CONSUMER,
            attributes=attributes,
        )
        token = self._context.attach(self._trace.set_span_in_context(span))
        return span, token, attributes

    def handler_started(self, state: Any, route: Route) -> Any:
        """Start a handler's span, a child of the event's, and make it current."""
        if state is None:
            return None
        if not _vrops_hooked and "veba_sdk.vrops._call" in sys.modules:  # vROps was imported
            _hook_vrops()
        attributes = dict(state[2])
        attributes["code.function"] = route.name
        attributes["veba.route"] = route.pattern
        span = self.tracer.start_span(
            route.name, kind=self._trace.SpanKind.INTERNAL, attributes=attributes
        )
        token = self._context.attach(self._trace.set_span_in_context(span))
        return span, token, _handler_tracer.set(self.tracer)

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        """End a handler's span, with the error it raised."""
        if handler_state is None:
            return
        span, token, flag = handler_state
        _handler_tracer.reset(flag)
        self._context.detach(token)
        if error is not None:
            _set_error(self._trace, span, error)
        span.end()

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        """End the event's span: what ran, failed, or was a duplicate."""
        if state is None:
            return
        span: Span = state[0]
        span.set_attribute("veba.handlers.ran", len(result.ran))
        span.set_attribute("veba.handlers.failed", len(result.failed))
        span.set_attribute("veba.matched", result.matched)
        if result.duplicate:
            span.set_attribute("veba.duplicate", True)
        if result.failed:
            names = ", ".join(name for name, _ in result.failed)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, f"failed: {names}"))
        self._context.detach(state[1])
        span.end()


def _set_error(trace: Any, span: Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(error).__name__}: {error}"))


def log_fields() -> dict[str, str]:
    """``trace_id`` and ``span_id`` (hex) of the current span, for log records; empty
    without OpenTelemetry or outside a span. Never imports OpenTelemetry."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


# -- client spans of vROps calls ---------------------------------------------------------

_vrops_hooked = False
_Answered = Callable[["httpx.Response"], None]


def _hook_vrops() -> None:
    """Register :func:`_vrops_request` as the vROps clients' request hook, once. Done on the
    first handler that runs once something imported the vROps client (never importing it);
    skipped when OpenTelemetry's own httpx instrumentation is loaded (it makes these spans
    itself). Other httpx clients are left alone: nothing of httpx is patched."""
    global _vrops_hooked
    with _lock:
        if _vrops_hooked:
            return
        _vrops_hooked = True
    if "opentelemetry.instrumentation.httpx" in sys.modules:
        return
    from .vrops import set_request_hook  # imported already: the hook is set only then

    set_request_hook(_vrops_request)


def _ignore(response: httpx.Response) -> None:
    """What an untraced request is told of its response: nothing to record."""


_UNTRACED: AbstractContextManager[_Answered] = nullcontext(_ignore)


def _vrops_request(request: httpx.Request) -> AbstractContextManager[_Answered]:
    """The vROps request hook: a ``CLIENT`` span around the request while a handler's span is
    current, nothing otherwise."""
    tracer = _handler_tracer.get()
    if tracer is None:
        return _UNTRACED
    return _client_span(tracer, request)


@contextmanager
def _client_span(tracer: Tracer, request: httpx.Request) -> Iterator[_Answered]:
    """The span of one request, current while it is sent (so the ``traceparent`` it carries
    names it), with its response's status or its error."""
    from opentelemetry import context, trace
    from opentelemetry.propagate import inject

    url = request.url
    attributes: dict[str, Any] = {
        "http.request.method": request.method,
        "server.address": url.host,
        "url.full": str(url.copy_with(query=None)),
    }
    if url.port is not None:
        attributes["server.port"] = url.port
    if "/suite-api/" in url.path:
        attributes["veba.vrops"] = True
    span = tracer.start_span(request.method, kind=trace.SpanKind.CLIENT, attributes=attributes)
    token = context.attach(trace.set_span_in_context(span))
    inject(request.headers)

    def answered(response: httpx.Response) -> None:
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 500:
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(response.status_code)))

    try:
        yield answered
    except BaseException as error:
        context.detach(token)
        _set_error(trace, span, error)
        span.end()
        raise
    context.detach(token)
    span.end()
