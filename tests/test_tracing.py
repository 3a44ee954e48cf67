"""Tracing with OpenTelemetry through a real uvicorn server (the SDK's in-memory exporter).

The server (tests/tracing/_traced_app.py) configures a tracer provider; requests carrying a
W3C ``traceparent`` header, or a CloudEvent ``traceparent`` extension, yield an event span and
a span per handler in that trace, with the OpenTelemetry CloudEvents and FaaS attributes; a
handler's vROps call is a client span under its handler's span; JSON log lines carry the
trace id; a handler's request with a plain httpx client of its own is neither traced nor given
a ``traceparent`` (only the vROps clients' requests are). Without a provider, nothing of
OpenTelemetry is imported (the Lambda cold path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "adapters"))

from _servers import PYTHON, free_port, running, server_env  # noqa: E402

from veba_sdk.testing import make_event, to_cloudevent  # noqa: E402

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Path]]:
    port = free_port()
    argv = [
        PYTHON, "-m", "uvicorn", "_traced_app:app", "--host", "127.0.0.1", "--port",
        str(port), "--log-level", "warning", "--app-dir", str(HERE / "tracing"),
    ]  # fmt: skip
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"veba-server-{port}.log"
    env = {"VEBA_LOG_FORMAT": "json", "TRACED_APP_PORT": str(port)}
    with running(argv, port, env=env, cwd=HERE / "tracing") as base:
        yield base, log


def spans(base: str) -> list[dict[str, Any]]:
    response = httpx.get(base + "/spans", timeout=10)
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def post(base: str, name: str, extra_headers: dict[str, str], **fields: Any) -> httpx.Response:
    headers, body = to_cloudevent(make_event(name, **fields))
    headers.update(extra_headers)
    return httpx.post(base + "/", headers=headers, content=body, timeout=10)


def by_name(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {span["name"]: span for span in found}


def test_http_traceparent_continues_the_trace(server: tuple[str, Path]) -> None:
    base, log = server
    spans(base)  # forget earlier spans
    response = post(
        base, "EnteredMaintenanceModeEvent", {"traceparent": TRACEPARENT},
        host={"name": "esx01.lab.local"},
    )  # fmt: skip
    assert response.status_code == 204
    found = spans(base)
    assert {span["trace_id"] for span in found} == {TRACE_ID}
    named = by_name(found)
    event = named["EnteredMaintenanceModeEvent"]
    handler = named["enter"]
    assert event["kind"] == "CONSUMER"
    assert event["parent_id"] == PARENT_ID
    assert handler["parent_id"] == event["span_id"]
    assert handler["kind"] == "INTERNAL"
    for span in (event, handler):
        attributes = span["attributes"]
        assert attributes["faas.trigger"] == "pubsub"
        assert attributes["cloudevents.event_type"] == "com.vmware.event.router/event"
        assert attributes["cloudevents.event_subject"] == "EnteredMaintenanceModeEvent"
        assert attributes["cloudevents.event_spec_version"] == "1.0"
        assert attributes["cloudevents.event_source"] == "https://vcenter.vsphere.local/sdk"
        assert len(attributes["cloudevents.event_id"]) == 36  # the router's random UUID
        assert span["status"] == "UNSET"
    # vROps calls (host id lookup, then maintained) as client spans under the handler's span.
    client = [span for span in found if span["kind"] == "CLIENT"]
    assert [span["name"] for span in client] == ["GET", "PUT"]
    for span in client:
        assert span["parent_id"] == handler["span_id"]
        assert span["attributes"]["veba.vrops"] is True
        assert span["attributes"]["http.response.status_code"] == 200
    assert "/maintained" in client[1]["attributes"]["url.full"]
    # The handler's JSON log line carries the trace and its span.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    marked = [line for line in lines if line.get("message") == "marked esx01.lab.local"]
    assert marked
    assert marked[-1]["trace_id"] == TRACE_ID
    assert marked[-1]["span_id"] == handler["span_id"]


def test_a_handlers_own_httpx_client_is_not_traced(server: tuple[str, Path]) -> None:
    base, _ = server
    spans(base)
    httpx.get(base + "/pings", timeout=10)  # forget earlier pings
    response = post(base, "VmPoweredOnEvent", {"traceparent": TRACEPARENT})
    assert response.status_code == 204
    found = spans(base)
    assert sorted(span["kind"] for span in found) == ["CONSUMER", "INTERNAL"]  # no CLIENT
    assert {span["trace_id"] for span in found} == {TRACE_ID}
    (ping,) = httpx.get(base + "/pings", timeout=10).json()
    assert "traceparent" not in ping
    assert ping["user-agent"].startswith("python-httpx/")  # it was the handler's client


def test_cloudevent_traceparent_extension_wins(server: tuple[str, Path]) -> None:
    base, _ = server
    spans(base)
    other = "0af7651916cd43dd8448eb211c80319c"
    response = post(
        base,
        "HostConnectionLostEvent",
        {"ce-traceparent": f"00-{other}-b7ad6b7169203331-01", "traceparent": TRACEPARENT},
    )
    assert response.status_code == 500  # the handler raised: the broker retries
    found = spans(base)
    assert {span["trace_id"] for span in found} == {other}
    named = by_name(found)
    event = named["HostConnectionLostEvent"]
    handler = named["broken"]
    assert event["parent_id"] == "b7ad6b7169203331"
    assert handler["status"] == "ERROR"
    assert handler["events"] == ["exception"]
    assert event["status"] == "ERROR"
    assert event["attributes"]["veba.handlers.failed"] == 1


def test_without_traceparent_a_new_trace_starts(server: tuple[str, Path]) -> None:
    base, _ = server
    spans(base)
    response = post(base, "HostConnectionLostEvent", {"traceparent": "00-garbage-01"})
    assert response.status_code == 500
    found = spans(base)
    named = by_name(found)
    assert named["HostConnectionLostEvent"]["parent_id"] is None
    assert named["broken"]["trace_id"] == named["HostConnectionLostEvent"]["trace_id"]
    assert named["HostConnectionLostEvent"]["trace_id"] != TRACE_ID


def test_a_cold_lambda_import_loads_no_opentelemetry() -> None:
    """opentelemetry is installed here, yet a Lambda handler that dispatches an event (and
    logs JSON) imports nothing of it when nothing configured a tracer provider."""
    code = (
        "import sys, json\n"
        "from veba_sdk import Router\n"
        "from veba_sdk.adapters.aws_lambda import handler\n"
        "from veba_sdk.testing import make_event, to_eventbridge\n"
        "router = Router()\n"
        "seen = []\n"
        "router.on('VmPoweredOnEvent')(lambda event: seen.append(event))\n"
        "handle = handler(router)\n"
        "handle(to_eventbridge(make_event('VmPoweredOnEvent')), None)\n"
        "assert len(seen) == 1\n"
        "print(json.dumps(sorted(m for m in sys.modules if 'opentelemetry' in m\n"
        "                        or m == 'veba_sdk.tracing')))\n"
    )
    out = subprocess.run(
        [PYTHON, "-c", code],
        env=server_env({"VEBA_LOG_FORMAT": "json"}),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
