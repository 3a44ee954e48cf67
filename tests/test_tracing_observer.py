"""The tracing observer on every dispatch path, with a tracer provider of its own (the
process-wide one is left alone): sync and async dispatch, ``def`` handlers in worker
threads, the trace context from a WSGI environ, an object's ``headers`` (OpenFaaS) or the
CloudEvent extension, and an event no handler matched."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from veba_sdk import Router
from veba_sdk.events import decode_http
from veba_sdk.testing import make_event, to_cloudevent
from veba_sdk.tracing import TracingObserver, log_fields

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def traced_router() -> tuple[Router, InMemorySpanExporter, dict[str, Any]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    router = Router()
    seen: dict[str, Any] = {}

    @router.on("VmPoweredOnEvent")
    def in_thread(event: Any) -> None:
        seen["thread"] = trace.get_current_span().get_span_context()
        seen["log"] = log_fields()

    @router.on("VmPoweredOnEvent")
    async def on_loop(event: Any) -> None:
        seen["loop"] = trace.get_current_span().get_span_context()

    router.add_observer(TracingObserver(provider))
    return router, exporter, seen


def envelope(name: str = "VmPoweredOnEvent", **headers: str) -> Any:
    raw, body = to_cloudevent(make_event(name), producer="router")
    raw.update(headers)
    return decode_http([(k.lower().encode(), v.encode()) for k, v in raw.items()], body)


def test_async_dispatch_threads_and_loop_see_their_handler_spans() -> None:
    router, exporter, seen = traced_router()
    scope = {"type": "http", "headers": [(b"traceparent", TRACEPARENT.encode())]}
    asyncio.run(router.dispatch_async(envelope(), platform_context=scope))
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert len(spans) == 3  # the event and its two handlers
    thread_span = next(s for n, s in spans.items() if n.endswith("in_thread"))
    loop_span = next(s for n, s in spans.items() if n.endswith("on_loop"))
    event_span = spans["VmPoweredOnEvent"]
    assert event_span.context.trace_id == TRACE_ID
    assert seen["thread"].span_id == thread_span.context.span_id  # current in the worker thread
    assert seen["loop"].span_id == loop_span.context.span_id
    assert seen["log"] == {
        "trace_id": f"{TRACE_ID:032x}",
        "span_id": f"{thread_span.context.span_id:016x}",
    }
    for span in (thread_span, loop_span):
        assert span.parent is not None
        assert span.parent.span_id == event_span.context.span_id
    assert trace.get_current_span().get_span_context().is_valid is False  # all detached


def test_sync_dispatch_reads_a_wsgi_environ() -> None:
    router, exporter, _ = traced_router()
    router.dispatch(envelope(), platform_context={"HTTP_TRACEPARENT": TRACEPARENT})
    assert {span.context.trace_id for span in exporter.get_finished_spans()} == {TRACE_ID}


class OpenFaasEvent:
    """What the python3-http template hands a handler: ``headers`` as a mapping."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


def test_an_objects_headers_and_the_extension() -> None:
    router, exporter, _ = traced_router()
    router.dispatch(envelope(), platform_context=OpenFaasEvent({"Traceparent": TRACEPARENT}))
    assert {span.context.trace_id for span in exporter.get_finished_spans()} == {TRACE_ID}
    exporter.clear()
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    router.dispatch(envelope(**{"ce-traceparent": other}))
    found = exporter.get_finished_spans()
    assert {f"{span.context.trace_id:032x}" for span in found} == {
        "0af7651916cd43dd8448eb211c80319c"
    }


def test_an_unmatched_event_gets_its_span() -> None:
    router, exporter, _ = traced_router()
    result = router.dispatch(envelope("UserLoginSessionEvent"))
    assert not result.matched
    (span,) = exporter.get_finished_spans()
    assert span.name == "UserLoginSessionEvent"
    assert span.attributes is not None
    assert span.attributes["veba.matched"] is False
    assert span.attributes["cloudevents.event_subject"] == "UserLoginSessionEvent"
    assert span.attributes["faas.trigger"] == "pubsub"
