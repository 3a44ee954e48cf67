"""Tracing makes client spans for the vROps clients' requests only.

With a tracing observer on the router, a handler calls vROps (``FakeVrops``) and also makes
a request of its own with a plain ``httpx`` client to a real server on 127.0.0.1. The vROps
calls get ``CLIENT`` spans under the handler's span and carry its ``traceparent``; the user's
request gets no span and no ``traceparent`` header, and ``httpx.Client.send`` /
``httpx.AsyncClient.send`` stay httpx's own (nothing is patched process-wide).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from veba_sdk import Router
from veba_sdk.testing import FakeVrops, make_event, to_cloudevent
from veba_sdk.tracing import TracingObserver
from veba_sdk.vrops import AsyncVropsClient, VropsClient

HTTPX_SEND = httpx.Client.__dict__["send"]
HTTPX_ASEND = httpx.AsyncClient.__dict__["send"]


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append({key.lower(): value for key, value in self.headers.items()})
        body = b"pong"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def loopback() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A real HTTP server on 127.0.0.1 recording the headers of each request."""
    seen: list[dict[str, str]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ping", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class RecordingTransport(httpx.BaseTransport):
    """The fake's in-process transport, remembering the headers each request carried."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.headers: list[dict[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(dict(request.headers))
        return self.inner.handle_request(request)


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.headers: list[dict[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(dict(request.headers))
        return await self.inner.handle_async_request(request)


def envelope(name: str) -> Any:
    from veba_sdk.events import decode_http

    raw, body = to_cloudevent(make_event(name, host={"name": "esx01.lab.local"}))
    return decode_http([(k.lower().encode(), v.encode()) for k, v in raw.items()], body)


def traced(router: Router) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    router.add_observer(TracingObserver(provider))
    return exporter


def fake_vrops() -> FakeVrops:
    fake = FakeVrops()
    fake.add_host("esx01.lab.local")
    return fake


def check(
    exporter: InMemorySpanExporter,
    handler_name: str,
    vrops_headers: list[dict[str, str]],
    seen: list[dict[str, str]],
) -> None:
    spans = exporter.get_finished_spans()
    handler = next(span for span in spans if span.name.endswith(handler_name))
    client = [span for span in spans if span.kind.name == "CLIENT"]
    # The token acquire is part of the first call's span: two vROps calls, two spans.
    assert [span.name for span in client] == ["GET", "PUT"]
    for span in client:
        assert span.parent is not None
        assert span.parent.span_id == handler.context.span_id
        assert span.attributes is not None
        assert span.attributes["veba.vrops"] is True
        assert "127.0.0.1" not in str(span.attributes["url.full"])
    # Each vROps call carried its own span as the traceparent.
    sent = [h["traceparent"] for h in vrops_headers if "traceparent" in h]
    assert [value.split("-")[2] for value in sent[-2:]] == [
        f"{span.context.span_id:016x}" for span in client
    ]
    # The user's own request: served, yet untraced.
    assert len(seen) == 1
    assert "traceparent" not in seen[0]
    assert httpx.Client.__dict__["send"] is HTTPX_SEND
    assert httpx.AsyncClient.__dict__["send"] is HTTPX_ASEND
    assert not hasattr(httpx.Client.send, "__wrapped__")


def test_a_users_httpx_client_is_not_traced(
    loopback: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = loopback
    fake = fake_vrops()
    transport = RecordingTransport(fake.sync_transport())
    vrops = VropsClient(FakeVrops.URL, fake.username, "fake-Passw0rd!", transport=transport)
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def enter(event: Any) -> None:
        vrops.mark_maintained(vrops.host_id(event.host.name))
        with httpx.Client(timeout=10) as mine:
            assert mine.get(url).text == "pong"

    exporter = traced(router)
    with vrops:
        result = router.dispatch(envelope("EnteredMaintenanceModeEvent"))
    assert result.failed == []
    check(exporter, "enter", transport.headers, seen)


def test_a_users_async_httpx_client_is_not_traced(
    loopback: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = loopback
    fake = fake_vrops()
    transport = AsyncRecordingTransport(fake.transport())
    router = Router()
    clients: list[AsyncVropsClient] = []

    @router.on("EnteredMaintenanceModeEvent")
    async def enter(event: Any) -> None:
        vrops = AsyncVropsClient(
            FakeVrops.URL, fake.username, "fake-Passw0rd!", transport=transport
        )
        clients.append(vrops)
        await vrops.mark_maintained(await vrops.host_id(event.host.name))
        async with httpx.AsyncClient(timeout=10) as mine:
            assert (await mine.get(url)).text == "pong"

    exporter = traced(router)

    async def run() -> Any:
        try:
            return await router.dispatch_async(envelope("EnteredMaintenanceModeEvent"))
        finally:
            for client in clients:
                await client.aclose()

    result = asyncio.run(run())
    assert result.failed == []
    check(exporter, "enter", transport.headers, seen)


def test_vrops_calls_outside_handlers_get_no_span() -> None:
    fake = fake_vrops()
    router = Router()
    router.on("VmPoweredOnEvent")(lambda event: None)
    exporter = traced(router)
    router.dispatch(envelope("VmPoweredOnEvent"))  # registers the vROps hook
    from veba_sdk.vrops import _call

    assert _call.request_hook is not None
    transport = RecordingTransport(fake.sync_transport())
    with VropsClient(FakeVrops.URL, fake.username, "fake-Passw0rd!", transport=transport) as c:
        c.host_id("esx01.lab.local")
    kinds = sorted(span.kind.name for span in exporter.get_finished_spans())
    assert kinds == ["CONSUMER", "INTERNAL"]  # the event's and its handler's, no CLIENT
    assert all("traceparent" not in headers for headers in transport.headers)
