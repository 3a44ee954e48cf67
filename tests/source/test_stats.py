"""The metrics provider: the router's /stats JSON and Prometheus /metrics, on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from veba_sdk.source import ProcessorStats, ProviderStats, StatsServer
from veba_sdk.source.stats import STATS_MAP, parse_bind_address

PASSWORD = "metrics-secret"


@pytest.fixture
def counters() -> tuple[ProviderStats, ProcessorStats]:
    provider = ProviderStats("vcenter", "https://vc01.example/sdk")
    processor = ProcessorStats("openfaas", "http://gateway:8080")
    provider.event(5)
    provider.error()
    processor.success("VmPoweredOnEvent", 3)
    processor.failure("VmPoweredOnEvent")
    processor.success('odd "subject"\nname')
    return provider, processor


@pytest.fixture
def server(counters: tuple[ProviderStats, ProcessorStats]) -> Iterator[StatsServer]:
    with StatsServer("127.0.0.1:0", counters, username="admin", password=PASSWORD) as s:
        yield s


def test_stats_document_has_the_router_shape(server: StatsServer) -> None:
    response = httpx.get(f"{server.url}/stats", auth=("admin", PASSWORD))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert {"cmdline", "system.numberOfSeconds", "system.allLoad"} <= set(document)
    stats = document[STATS_MAP]
    vcenter = stats["vcenter"]
    assert vcenter["type"] == "provider"
    assert vcenter["address"] == "https://vc01.example/sdk"
    assert (vcenter["events_total"], vcenter["events_err"]) == (5, 1)
    assert vcenter["events_per_sec"] > 0
    assert vcenter["started"].endswith("Z")
    openfaas = stats["openfaas"]
    assert openfaas["type"] == "processor"
    assert "events_total" not in openfaas
    assert openfaas["invocations"]["VmPoweredOnEvent"] == {"SuccessCount": 3, "FailureCount": 1}


def test_basic_auth(server: StatsServer) -> None:
    for auth in (None, ("admin", "wrong"), ("other", PASSWORD)):
        response = httpx.get(f"{server.url}/stats", auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="Restricted"'
        assert PASSWORD not in response.text
    garbage = httpx.get(f"{server.url}/metrics", headers={"authorization": "Basic !!!"})
    assert garbage.status_code == 401
    assert PASSWORD not in repr(server)


def test_without_auth_anyone_may_read(counters: tuple[ProviderStats, ProcessorStats]) -> None:
    with StatsServer("127.0.0.1:0", counters) as s:
        assert httpx.get(f"{s.url}/stats").status_code == 200
        assert httpx.get(f"{s.url}/nothing").status_code == 404


def test_prometheus_metrics_parse(server: StatsServer) -> None:
    response = httpx.get(f"{server.url}/metrics", auth=("admin", PASSWORD))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    provider = (("address", "https://vc01.example/sdk"), ("provider", "vcenter"))
    assert samples[("veba_listen_events_total", provider)] == 5
    assert samples[("veba_listen_event_errors_total", provider)] == 1
    ok = (("outcome", "success"), ("processor", "openfaas"), ("subject", "VmPoweredOnEvent"))
    assert samples[("veba_listen_invocations_total", ok)] == 3
    odd = (("outcome", "success"), ("processor", "openfaas"), ("subject", 'odd "subject"\nname'))
    assert samples[("veba_listen_invocations_total", odd)] == 1


def test_a_port_in_use_is_an_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):  # noqa: PT011 - the OS's own error
            StatsServer(f"127.0.0.1:{port}", []).start()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("0.0.0.0:8082", ("0.0.0.0", 8082)),
        (":8082", ("0.0.0.0", 8082)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:9", ("::1", 9)),
    ],
)
def test_bind_addresses(text: str, parsed: tuple[str, int]) -> None:
    assert parse_bind_address(text) == parsed


@pytest.mark.parametrize("text", ["8082", "host:", "host:http", "h:70000"])
def test_bad_bind_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        parse_bind_address(text)
