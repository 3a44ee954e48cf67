"""The metered apps in process: off is the plain app, on counts once per router, the WSGI app
and func-python's ``new`` answer ``/metrics``, and label values stay bounded."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from veba_sdk import Router
from veba_sdk.adapters import knative, openfaas
from veba_sdk.metrics import OTHER, PrometheusMetrics
from veba_sdk.metrics._labels import EventLabels
from veba_sdk.metrics._prometheus import resolve_metrics
from veba_sdk.testing import make_event, to_cloudevent

if TYPE_CHECKING:
    from veba_sdk.adapters.aws_lambda import LambdaHandler
    from veba_sdk.adapters.openfaas import PythonHttpHandle

SRC = Path(__file__).resolve().parents[2] / "src"


def _router() -> Router:
    router = Router()

    @router.on("VmPoweredOnEvent")
    def powered_on(event: Any) -> None:
        """Returns."""

    @router.on("horizon.VLSI_USERLOGGEDIN_REST")
    def login(event: Any) -> None:
        """Returns."""

    return router


def _values(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def _wsgi(app: Any, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    for key, value in headers.items():
        if key == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + key.upper().replace("-", "_")] = value
    status: list[str] = []
    chunks = app(environ, lambda s, h: status.append(s))
    return status[0], b"".join(chunks)


def test_off_is_the_plain_app_and_observes_nothing() -> None:
    router = _router()
    assert type(knative.asgi(router)) is knative.ASGIApp
    assert type(knative.wsgi(router)) is knative.WSGIApp
    assert type(knative.new(router).app) is knative.ASGIApp
    assert router._added_observers == []
    status, _ = _wsgi(knative.wsgi(router), "GET", "/metrics")
    assert status.startswith("405")
    handle = openfaas.handler(router)

    class Get:
        method, path, body = "GET", "/metrics", b""
        headers: dict[str, str] = {}

    assert handle(Get(), None)["statusCode"] == 405


def test_importing_the_adapters_loads_no_prometheus_client() -> None:
    code = (
        "import sys\n"
        "from veba_sdk.adapters import knative, openfaas, aws_lambda\n"
        "import veba_sdk.metrics\n"
        "knative.asgi(__import__('veba_sdk').Router())\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip() == "False"


def test_wsgi_app_counts_and_answers() -> None:
    metrics = PrometheusMetrics(CollectorRegistry())
    router = _router()
    app = knative.wsgi(router, metrics=metrics)
    knative.wsgi(router, metrics=metrics)  # a second app on the same router counts nothing twice
    headers, body = to_cloudevent(make_event("VmPoweredOnEvent"))
    for _ in range(3):
        status, _ = _wsgi(app, "POST", "/", body, **headers)
        assert status.startswith("204")
    status, text = _wsgi(app, "GET", "/metrics")
    assert status.startswith("200")
    received = _values(text.decode(), "veba_events_received_total")
    assert received == {(("event", "VmPoweredOnEvent"), ("producer", "router")): 3.0}
    outcomes = _values(text.decode(), "veba_handler_outcomes_total")
    assert outcomes == {
        (("handler", "_router.<locals>.powered_on"), ("outcome", "ok")): 3.0,
    }


def test_func_python_new_answers_metrics() -> None:
    metrics = PrometheusMetrics(CollectorRegistry())
    function = knative.new(_router(), metrics=metrics)
    headers, body = to_cloudevent(make_event("VmPoweredOnEvent"))
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    def receiver(data: bytes) -> Any:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": data, "more_body": False}

        return receive

    def scope(method: str, path: str, raw: dict[str, str]) -> dict[str, Any]:
        return {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [(k.encode(), v.encode()) for k, v in raw.items()],
        }

    asyncio.run(function.handle(scope("POST", "/", headers), receiver(body), send))
    assert sent[0]["status"] == 204
    sent.clear()
    asyncio.run(function.handle(scope("GET", "/metrics", {}), receiver(b""), send))
    assert sent[0]["status"] == 200
    text = sent[1]["body"].decode()
    assert _values(text, "veba_events_received_total") == {
        (("event", "VmPoweredOnEvent"), ("producer", "router")): 1.0
    }


def test_event_labels_are_catalogued_or_routed_else_other() -> None:
    from veba_sdk.events import Envelope

    labels = EventLabels(_router())

    def envelope(name: str, category: str, producer: str = "router") -> Envelope:
        return Envelope(
            name=name,
            category=category,
            producer=producer,
            attributes={},
            data=None,
            event=None,  # type: ignore[arg-type]  # the labels read the name and category only
        )

    assert labels(envelope("VmPoweredOnEvent", "event")) == "VmPoweredOnEvent"
    assert labels(envelope("DrsVmPoweredOnEvent", "event")) == "DrsVmPoweredOnEvent"
    assert labels(envelope("com.vmware.vc.HA.HostAgentErrorEvent", "eventex")) == (
        "com.vmware.vc.HA.HostAgentErrorEvent"
    )
    assert labels(envelope("NoSuchEvent", "event")) == OTHER
    assert labels(envelope("com.example.random.12345", "eventex")) == OTHER
    assert labels(envelope("horizon.VLSI_USERLOGGEDIN_REST", "horizon")) == (
        "horizon.VLSI_USERLOGGEDIN_REST"
    )
    assert labels(envelope("horizon.ADMIN_LOGIN", "horizon")) == OTHER
    assert labels(envelope("com.example.webhook", "cloudevent", "cloudevent")) == OTHER
    many = {labels(envelope(f"Made{i}Event", "event")) for i in range(5000)}
    assert many == {OTHER}


def test_resolve_metrics() -> None:
    metrics = PrometheusMetrics(CollectorRegistry())
    assert resolve_metrics(False) is None
    assert resolve_metrics(metrics) is metrics
    assert resolve_metrics(True) is PrometheusMetrics.default()
    assert resolve_metrics(True) is resolve_metrics(True)
    with pytest.raises(TypeError, match="metrics= takes"):
        resolve_metrics("yes")  # type: ignore[arg-type]


def test_metrics_without_prometheus_client_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['prometheus_client'] = None\n"
        "from veba_sdk import Router\n"
        "from veba_sdk.adapters import knative\n"
        "try:\n"
        "    knative.asgi(Router(), metrics=True)\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc.extra, str(exc).splitlines()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.startswith("MissingExtra metrics veba_sdk.metrics needs prometheus_client")


def test_metrics_exports_resolve() -> None:
    import veba_sdk.metrics

    for name in veba_sdk.metrics.__all__:
        assert getattr(veba_sdk.metrics, name) is not None, name


def test_from_router_config_hands_metrics_to_the_adapter() -> None:
    from veba_sdk.adapters import from_router_config
    from veba_sdk.adapters.knative import ASGIApp
    from veba_sdk.metrics import EMFMetrics
    from veba_sdk.testing import to_eventbridge

    configs = Path(__file__).parents[1] / "fixtures" / "router-configs"
    metrics = PrometheusMetrics(CollectorRegistry())
    router = _router()
    app = from_router_config(
        router, configs / "dev__event-router-config-vcenter-knative.yaml", metrics=metrics
    )
    assert isinstance(app, ASGIApp)
    assert app.runner.metrics is metrics
    handle = from_router_config(
        router, configs / "dev__event-router-config-vcenter-openfaas.yaml", metrics=metrics
    )
    handle = cast("PythonHttpHandle", handle)  # what the openfaas processor gets

    class Get:
        method, path, body = "GET", "/metrics", b""
        headers: dict[str, str] = {}

    answer = handle(Get(), None)
    assert answer["statusCode"] == 200
    assert "veba_events_in_flight 0.0" in answer["body"]
    out = io.StringIO()
    lambda_handler = from_router_config(
        _router(),
        configs / "dev__event-router-config-vcenter-aws.yaml",
        metrics=EMFMetrics(stream=out),
    )
    lambda_handler = cast("LambdaHandler", lambda_handler)  # what aws_event_bridge gets
    lambda_handler(to_eventbridge(make_event("VmPoweredOnEvent")), None)
    assert '"EventsReceived":1' in out.getvalue()
