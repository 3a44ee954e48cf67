"""Metrics scraped over HTTP from real servers after a known mix of events.

uvicorn with the Knative app; the OpenFaaS standalone server (waitress); the python3-http
template's Flask ``index.py`` (on waitress, as the template runs it); ``veba serve --metrics``
with each adapter. Each gets the same deliveries (ok, failed, duplicate, no match, a foreign
CloudEvent) and its ``/metrics``, parsed by prometheus-client's own parser, shows exactly them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from _mix import check, deliver, scrape

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "adapters"))

from _servers import BIN, PYTHON, free_port, running  # noqa: E402


def test_knative_app_on_uvicorn() -> None:
    port = free_port()
    argv = [
        PYTHON, "-m", "uvicorn", "_metered:knative_app", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--app-dir", str(HERE),
    ]  # fmt: skip
    with running(argv, port, cwd=HERE) as base:
        before = httpx.get(base + "/metrics", timeout=10.0)
        assert "veba_events_in_flight 0.0" in before.text
        assert "veba_events_received_total{" not in before.text  # nothing yet
        deliver(base + "/")
        check(scrape(base + "/metrics"))
        openmetrics = httpx.get(
            base + "/metrics", headers={"Accept": "application/openmetrics-text"}, timeout=10.0
        )
        assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
        assert openmetrics.text.rstrip().endswith("# EOF")
        head = httpx.head(base + "/metrics", timeout=10.0)
        assert head.status_code == 200
        assert head.content == b""
        # Probes and the status policy are the plain app's.
        assert httpx.get(base + "/health/readiness", timeout=10.0).status_code == 200
        assert httpx.get(base + "/", timeout=10.0).status_code == 405


def test_metrics_are_behind_the_sender_check() -> None:
    port = free_port()
    argv = [
        PYTHON, "-m", "uvicorn", "_metered:knative_guarded", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--app-dir", str(HERE),
    ]  # fmt: skip
    with running(argv, port, cwd=HERE) as base:
        refused = httpx.get(base + "/metrics", timeout=10.0)
        assert refused.status_code == 401
        assert "veba_events" not in refused.text
        assert refused.headers["www-authenticate"].startswith("Basic")
        wrong = httpx.get(base + "/metrics", auth=("scraper", "nope"), timeout=10.0)
        assert wrong.status_code == 401
        scraped = httpx.get(base + "/metrics", auth=("scraper", "s3cret"), timeout=10.0)
        assert scraped.status_code == 200
        assert "veba_events_in_flight 0.0" in scraped.text
        # Probes stay open: the kubelet sends no credentials.
        assert httpx.get(base + "/health/readiness", timeout=10.0).status_code == 200


def test_openfaas_standalone_server() -> None:
    port = free_port()
    argv = [PYTHON, str(HERE / "_metered.py"), str(port)]
    with running(argv, port, cwd=HERE, ready_path=None) as base:
        deliver(base + "/", platform="openfaas")
        check(scrape(base + "/metrics"), platform="openfaas")


def test_openfaas_python3_http_template() -> None:
    port = free_port()
    argv = [PYTHON, str(HERE / "_metered_template.py"), str(port)]
    with running(argv, port, cwd=HERE, ready_path=None) as base:
        deliver(base + "/", platform="openfaas")
        check(scrape(base + "/metrics"), platform="openfaas")


@pytest.mark.parametrize("adapter", ["knative", "openfaas", "gcf"])
def test_veba_serve_metrics(adapter: str) -> None:
    if adapter == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    port = free_port()
    argv = [
        str(BIN / "veba"), "serve", "_metered.py:router", "--adapter", adapter,
        "--port", str(port), "--metrics", "--log-level", "ERROR",
    ]  # fmt: skip
    with running(argv, port, cwd=HERE, ready_path=None, timeout=60.0) as base:
        if adapter == "gcf":  # functions-framework takes binary or structured CloudEvents
            deliver(base + "/")
        else:
            deliver(base + "/", platform="openfaas" if adapter == "openfaas" else "knative")
        check(scrape(base + "/metrics"), platform=adapter)


def test_veba_serve_without_metrics_has_no_endpoint() -> None:
    port = free_port()
    argv = [str(BIN / "veba"), "serve", "_metered.py:router", "--port", str(port)]
    with running(argv, port, cwd=HERE, timeout=60.0) as base:
        assert httpx.get(base + "/metrics", timeout=10.0).status_code == 405
