"""The viewer's feed and recorders, without a browser: bounded ring, slow viewers dropped,
records of handlers and of the event source's deliveries, loopback-only answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import MutableMapping
from typing import Any

import pytest

from veba_sdk import Router
from veba_sdk.testing import make_event, to_cloudevent
from veba_sdk.viewer import EventFeed, ObservedTarget, ViewerApp, ViewerObserver


def test_the_ring_keeps_only_the_last_events() -> None:
    feed = EventFeed(ring=5)
    for n in range(20):
        feed.publish({"name": f"E{n}", "data": None})
    assert [r.fields["name"] for r in feed.recent()] == [f"E{n}" for n in range(15, 20)]
    _, missed = feed.subscribe(after=17)
    assert [r.seq for r in missed] == [18, 19, 20]


def test_a_slow_viewer_is_dropped_and_never_blocks_publishing() -> None:
    feed = EventFeed(ring=3, backlog=4)
    slow, _ = feed.subscribe()
    fast, _ = feed.subscribe()
    started = time.perf_counter()
    for n in range(1000):
        feed.publish({"name": "VmPoweredOnEvent", "n": n})
        fast.take()
    elapsed = time.perf_counter() - started
    assert slow.dropped
    assert not fast.dropped
    assert feed.subscribers == 1  # the slow one is gone
    assert len(slow.take()) == 4  # what it had before it fell behind, no more
    assert elapsed < 1.0  # 1,000 publishes: nothing waited on the slow viewer


def test_a_thread_subscriber_wakes_on_publish() -> None:
    feed = EventFeed()
    subscriber, _ = feed.subscribe()
    threading.Timer(0.05, feed.publish, [{"name": "HostConnectionLostEvent"}]).start()
    records = subscriber.wait(5.0)
    assert [r.fields["name"] for r in records] == ["HostConnectionLostEvent"]


def test_records_show_big_data_cut_and_bytes_as_json() -> None:
    feed = EventFeed()
    big = feed.publish({"name": "X", "data": {"blob": "x" * 100_000}})
    shown = json.loads(big.json())["data"]
    assert shown["truncated"] is True
    assert shown["size"] > 100_000
    raw = feed.publish({"name": "Y", "data": b'{"Key": 7}'})
    assert json.loads(raw.json())["data"] == {"Key": 7}


def test_the_observer_records_handlers_outcomes_and_durations() -> None:
    feed = EventFeed()
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def fine(event: Any) -> None:
        time.sleep(0.01)

    @router.on("EnteredMaintenanceModeEvent")
    def broken(event: Any) -> None:
        raise ValueError("no such host")

    router.add_observer(ViewerObserver(feed))
    router.dispatch(make_event_envelope("EnteredMaintenanceModeEvent"))
    router.dispatch(make_event_envelope("VmPoweredOnEvent"))
    first, second = (json.loads(r.json()) for r in feed.recent())
    assert first["name"] == "EnteredMaintenanceModeEvent"
    assert first["outcome"] == "failed"
    assert [(h["name"], h["outcome"]) for h in first["handlers"]] == [
        ("test_the_observer_records_handlers_outcomes_and_durations.<locals>.fine", "ok"),
        ("test_the_observer_records_handlers_outcomes_and_durations.<locals>.broken", "failed"),
    ]
    assert first["handlers"][0]["ms"] >= 10
    assert first["handlers"][1]["error"] == "ValueError: no such host"
    assert first["attributes"]["type"] == "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
    assert str(first["data"]["Key"]) == first["attributes"]["id"]  # VSphereSource: id = Key
    assert second["outcome"] == "no match"
    assert second["handlers"] == []


def test_the_observer_sees_async_dispatch_too() -> None:
    feed = EventFeed()
    router = Router()

    @router.on("VmPoweredOnEvent")
    async def audit(event: Any) -> None:
        await asyncio.sleep(0.005)

    router.add_observer(ViewerObserver(feed))
    asyncio.run(router.dispatch_async(make_event_envelope("VmPoweredOnEvent")))
    (record,) = feed.recent()
    assert record.fields["outcome"] == "ok"
    assert record.fields["handlers"][0]["ms"] >= 5


def make_event_envelope(name: str) -> Any:
    from veba_sdk.events import decode_http

    headers, body = to_cloudevent(make_event(name), producer="vsphere-source")
    return decode_http([(k.lower().encode(), v.encode()) for k, v in headers.items()], body)


class Target:
    """A delivery target failing its first call, with a stats attribute of its own."""

    def __init__(self) -> None:
        self.calls = 0
        self.stats = "the target's stats"

    def __call__(self, attributes: dict[str, Any], data: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("gateway down")


def test_observed_target_records_each_delivery_attempt() -> None:
    feed = EventFeed()
    target = Target()
    observed = ObservedTarget(target, feed, name="openfaas http://gw:8080")
    attributes = {
        "specversion": "1.0", "id": "1", "source": "https://vc/sdk",
        "type": "com.vmware.event.router/event", "subject": "VmPoweredOnEvent",
    }  # fmt: skip
    with pytest.raises(ConnectionError):
        observed(attributes, b'{"Key": 1}')
    observed(attributes, b'{"Key": 1}')
    assert observed.stats == "the target's stats"
    assert not hasattr(observed, "deliver_batch")  # the source sends one at a time then
    first, second = (json.loads(r.json()) for r in feed.recent())
    assert first["name"] == "VmPoweredOnEvent"
    assert first["outcome"] == "failed"
    assert first["handlers"][0]["error"] == "ConnectionError: gateway down"
    assert second["outcome"] == "ok"
    assert second["data"] == {"Key": 1}


async def _get(
    app: ViewerApp, path: str, client: str, host: str = "127.0.0.1:8080"
) -> tuple[int, bytes]:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": path, "headers": [(b"host", host.encode())],
        "client": (client, 50000),
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_only_loopback_clients_are_answered() -> None:
    app = ViewerApp(EventFeed())
    status, body = asyncio.run(_get(app, "/_veba/", "127.0.0.1"))
    assert status == 200
    assert b"<title>veba event viewer</title>" in body
    assert b"http://" not in body  # no external assets
    assert b"https://" not in body
    assert asyncio.run(_get(app, "/_veba/", "::1"))[0] == 200
    assert asyncio.run(_get(app, "/_veba/", "10.0.0.7"))[0] == 403
    assert (
        asyncio.run(_get(ViewerApp(EventFeed(), allow_remote=True), "/_veba/", "10.0.0.7"))[0]
        == 200
    )
    assert asyncio.run(_get(app, "/_veba/", "127.0.0.1", "localhost:8080"))[0] == 200
    assert asyncio.run(_get(app, "/_veba/", "::1", "[::1]:8080"))[0] == 200
    # A name rebound to 127.0.0.1 (DNS rebinding) is refused.
    assert asyncio.run(_get(app, "/_veba/", "127.0.0.1", "evil.example:8080"))[0] == 403
    assert asyncio.run(_get(app, "/_veba", "127.0.0.1"))[0] == 308
    assert asyncio.run(_get(app, "/_veba/nope", "127.0.0.1"))[0] == 404


def test_serve_viewer_port_is_not_the_knative_adapters() -> None:
    """The knative adapter serves the viewer on the function's server, so a --viewer-port is
    refused there (openfaas and gcf serve it on that port: test_serve_viewer_port.py)."""
    from click.testing import CliRunner

    from veba_sdk.cli.serve import command

    result = CliRunner().invoke(command, ["viewer_demo", "--viewer", "--viewer-port", "9000"])
    assert result.exit_code == 2
    assert "the knative adapter serves the viewer at /_veba/" in " ".join(result.output.split())
    alone = CliRunner().invoke(command, ["viewer_demo", "--adapter", "gcf", "--viewer-port", "9"])
    assert alone.exit_code == 2
    assert "--viewer-port needs --viewer" in alone.output
