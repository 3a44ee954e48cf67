"""``veba_sdk.testing.client``: the same events through each platform's own entry, in-process.

Every platform's answers follow one status policy, read through one ``ClientResponse``: a
handler's dict is 200 with JSON (gcf: the framework's 200 ``OK``), nothing to say is 204 (gcf:
200), garbage is 400 with a one-line reason, a failed handler is 500.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from veba_sdk import Context, HandlerError, InvalidEvent, Router
from veba_sdk.adapters import aws_lambda, knative, openfaas
from veba_sdk.testing import (
    PLATFORMS,
    ClientResponse,
    Encoding,
    FakeVrops,
    FunctionClient,
    LambdaTestContext,
    Mode,
    Platform,
    Producer,
    client,
    make_event,
)
from veba_sdk.vrops import AsyncVropsClient, VropsClient

HAS_GCF = True
try:
    import functions_framework  # noqa: F401
except ImportError:  # the cloudevents 2.x environment has no functions-framework
    HAS_GCF = False

PLATFORM_PARAMS = [
    pytest.param(
        p,
        marks=pytest.mark.skipif(p == "gcf" and not HAS_GCF, reason="needs functions-framework"),
    )
    for p in PLATFORMS
]
ROOT = Path(__file__).resolve().parents[2]


def make_router(seen: list[tuple[str, str, Any]]) -> Router:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def entered(event: Any, ctx: Context) -> dict[str, Any]:
        seen.append((ctx.name, ctx.producer, ctx.platform))
        return {"host": event.host.name, "producer": ctx.producer}

    @router.on("ExitMaintenanceModeEvent")
    async def exited(event: Any, ctx: Context) -> dict[str, Any]:
        await asyncio.sleep(0)
        seen.append((ctx.name, ctx.producer, ctx.platform))
        return {"left": event.host.name}

    @router.on("VmPoweredOffEvent")
    def broken(event: Any) -> None:
        raise RuntimeError("vROps is down")

    return router


@pytest.fixture(params=PLATFORM_PARAMS)
def platform(request: pytest.FixtureRequest) -> Platform:
    name: Platform = request.param  # one of PLATFORMS
    return name


@pytest.fixture
def seen() -> list[tuple[str, str, Any]]:
    return []


@pytest.fixture
def function(platform: Platform, seen: list[tuple[str, str, Any]]) -> Iterator[FunctionClient]:
    with client(make_router(seen), platform=platform) as test_client:
        yield test_client


def test_a_handler_answer(function: FunctionClient, platform: str, seen: list[Any]) -> None:
    response = function.send("EnteredMaintenanceModeEvent", host__name="esx01")
    assert isinstance(response, ClientResponse)
    assert response.ok
    assert seen[0][0] == "EnteredMaintenanceModeEvent"
    if platform == "gcf":  # functions-framework answers its own "OK"; values go nowhere
        assert (response.status, response.text) == (200, "OK")
        return
    assert response.status == 200
    assert response.json() == {"host": "esx01", "producer": seen[0][1]}
    assert response.header("Content-Type") == "application/json"


def test_async_handlers_run(function: FunctionClient, platform: str) -> None:
    response = function.send("ExitMaintenanceModeEvent", host__name="esx02")
    assert response.ok
    if platform != "gcf":
        assert response.json() == {"left": "esx02"}


def test_no_handler_is_acknowledged(function: FunctionClient, platform: str) -> None:
    response = function.send("VmPoweredOnEvent")
    assert response.status == (200 if platform == "gcf" else 204)


def test_a_failed_handler_is_500(function: FunctionClient, platform: str) -> None:
    response = function.send("VmPoweredOffEvent")
    assert response.status == 500
    assert not response.ok
    if platform == "lambda":
        assert isinstance(response.error, HandlerError)
        assert response.raw is response.error
    if platform != "gcf":  # the framework's own 500 page otherwise
        assert "VmPoweredOffEvent" in response.text
        assert response.text.count("\n") == 1


@pytest.mark.parametrize(
    "garbage", [b"", b"{not json", b"[]", b'{"specversion": "1.0"}', "\u00e9t\u00e9"]
)
def test_garbage_is_400_with_one_line(
    function: FunctionClient, platform: str, garbage: bytes | str
) -> None:
    headers = {"content-type": "application/json"}
    if platform == "gcf":  # functions-framework reads CloudEvents only from ce- headers
        # (a CloudEvent of any other type is valid, routable by type: this one is a router
        # event without the subject that names it)
        headers = {
            "ce-specversion": "1.0",
            "ce-id": "1",
            "ce-source": "/x",
            "ce-type": "com.vmware.event.router/event",
        }
    response = function.post(garbage, headers=headers)
    assert response.status == 400, response.text
    assert response.header("content-type") == "text/plain; charset=utf-8"
    assert response.text.endswith("\n")
    assert response.text.count("\n") == 1


@pytest.mark.parametrize(
    ("producer", "mode", "encoding"),
    [
        ("router", "binary", "json"),
        ("router", "structured", "json"),
        ("vsphere-source", "binary", "json"),
        ("vsphere-source", "binary", "xml"),
        ("vsphere-source", "structured", "xml"),
    ],
)
@pytest.mark.parametrize("platform", [p for p in PLATFORM_PARAMS if p.values[0] != "lambda"])
def test_every_producer_shape_on_the_http_platforms(
    platform: Platform, seen: list[Any], producer: Producer, mode: Mode, encoding: Encoding
) -> None:
    """(EventBridge carries the router's structured JSON only: Lambda is tested above.)"""
    with client(make_router(seen), platform=platform) as function:
        response = function.send(
            "EnteredMaintenanceModeEvent",
            producer=producer,
            mode=mode,
            encoding=encoding,
            host__name="esx01",
        )
    assert response.ok, response.text
    assert seen == [("EnteredMaintenanceModeEvent", producer, seen[0][2])]


def test_lambda_refuses_shapes_eventbridge_never_delivers() -> None:
    function = client(Router(), platform="lambda")
    with pytest.raises(ValueError, match="EventBridge processor sends producer 'router' only"):
        function.send("VmPoweredOnEvent", producer="vsphere-source")
    with pytest.raises(ValueError, match="sends mode 'structured' only"):
        function.send("VmPoweredOnEvent", mode="binary")


def test_platform_objects_reach_the_handler(seen: list[Any]) -> None:
    with client(make_router(seen), platform="lambda") as function:
        function.send("EnteredMaintenanceModeEvent")
    lambda_context = seen[-1][2]
    assert isinstance(lambda_context, LambdaTestContext)
    assert isinstance(lambda_context, aws_lambda.LambdaContext)
    with client(make_router(seen), platform="openfaas") as function:
        function.send("EnteredMaintenanceModeEvent")
    assert isinstance(seen[-1][2].hostname, str)


def test_raw_platform_answers_are_kept(seen: list[Any]) -> None:
    import httpx

    with client(make_router(seen), platform="knative") as function:
        assert isinstance(function.send("VmPoweredOnEvent").raw, httpx.Response)
    with client(make_router(seen), platform="openfaas") as function:
        raw = function.send("VmPoweredOnEvent").raw
    assert raw == {"statusCode": 204, "body": "", "headers": {}}
    with client(make_router(seen), platform="lambda") as function:
        answer = function.send("EnteredMaintenanceModeEvent", host__name="h1")
    assert answer.raw == {"host": "h1", "producer": "router"}


def test_platform_entries_as_well_as_routers(seen: list[Any]) -> None:
    router = make_router(seen)
    entries: dict[Platform, Any] = {
        "knative": knative.asgi(router, gc_threshold=None),
        "openfaas": openfaas.handler(router),
        "lambda": aws_lambda.handler(router),
    }
    for platform, entry in entries.items():
        with client(entry, platform=platform) as function:
            response = function.send("EnteredMaintenanceModeEvent", host__name="esx07")
        assert response.json()["host"] == "esx07", platform


def test_knative_health_and_methods(seen: list[Any]) -> None:
    with client(make_router(seen), platform="knative") as function:
        assert function.post(None, path="/health/readiness", method="GET").status == 200
        assert function.post(None, method="GET").status == 405
        assert function.post({"not": "an event"}).status == 400


def test_openfaas_takes_veba_body_and_binary_mode(seen: list[Any]) -> None:
    with client(make_router(seen), platform="openfaas") as function:
        veba = function.send("EnteredMaintenanceModeEvent")
        binary = function.send("EnteredMaintenanceModeEvent", mode="binary")
    assert veba.ok
    assert binary.ok
    assert seen[0][1] == "router"  # VEBA's OpenFaaS processor posts the router's format
    assert len(seen) == 2


def test_typed_events_and_their_misuse(seen: list[Any]) -> None:
    event = make_event("EnteredMaintenanceModeEvent", host__name="esx09")
    with client(make_router(seen), platform="openfaas") as function:
        assert function.send(event).json()["host"] == "esx09"
        with pytest.raises(TypeError, match="overrides apply to an event name only"):
            function.send(event, host__name="x")
        with pytest.raises(KeyError, match="'NoSuchEvent' is not a vCenter event class"):
            function.send("NoSuchEvent")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="platform must be one of knative, openfaas, lambda, gcf"):
        client(Router(), platform="azure")  # type: ignore[arg-type]  # not a platform, on purpose
    with pytest.raises(ValueError, match="give a router"):
        client(platform="knative")


def test_a_closed_client_sends_nothing(seen: list[Any]) -> None:
    for platform in ("knative", "openfaas", "lambda"):
        function = client(make_router(seen), platform=platform)
        function.close()
        function.close()
        with pytest.raises(RuntimeError, match=f"the {platform} test client is closed"):
            function.send("VmPoweredOnEvent")


def test_knative_client_from_a_running_loop(seen: list[Any]) -> None:
    """The sync API works inside async tests too: the app runs on the client's own loop."""

    async def inside() -> int:
        with client(make_router(seen), platform="knative") as function:
            return function.send("EnteredMaintenanceModeEvent").status

    assert asyncio.run(inside()) == 200


def test_knative_def_handlers_run_off_the_loop() -> None:
    router = Router()
    threads: list[str] = []

    @router.on("VmPoweredOnEvent")
    def where(event: Any) -> None:
        threads.append(threading.current_thread().name)

    with client(router, platform="knative") as function:
        assert function.send("VmPoweredOnEvent").status == 204
    assert threads
    assert threads[0] != "veba-testing-client"


@pytest.mark.skipif(not HAS_GCF, reason="needs functions-framework")
def test_gcf_source_file_and_cleanup(tmp_path: Path) -> None:
    main = tmp_path / "entry_main.py"
    main.write_text(
        "from veba_sdk import Router\n"
        "from veba_sdk.adapters.gcf import function\n"
        "router = Router()\n"
        "seen = []\n"
        "router.on('VmPoweredOnEvent')(lambda event: seen.append(event.vm.name))\n"
        "handle = function(router, 'handle')\n"
    )
    before = list(sys.path)
    with client(platform="gcf", source=main, target="handle") as function:
        assert function.send("VmPoweredOnEvent", vm__name="vm1").status == 200
        assert sys.modules["entry_main"].seen == ["vm1"]
    assert sys.path == before
    with client(Router(), platform="gcf") as function:
        made = [name for name in sys.modules if name.startswith("veba_gcf_client_")]
        assert made
    assert not [name for name in sys.modules if name in made]


def test_gcf_without_functions_framework_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['functions_framework'] = None\n"
        "from veba_sdk import Router\n"
        "from veba_sdk.testing import client\n"
        "try:\n"
        "    client(Router(), platform='gcf')\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "MissingExtra veba_sdk.testing.client(platform='gcf') needs functions_framework "
        "(functions-framework), which is not installed: pip install 'veba-sdk[gcf]'"
    )


# -- with the vrops_client fixture: handlers calling VropsClient.shared() -------------------


def _vrops_router() -> Router:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def mark(event: Any) -> dict[str, str]:
        return {"id": VropsClient.shared().mark_host_maintained(event.host.name)}

    @router.on("ExitMaintenanceModeEvent")
    async def unmark(event: Any) -> dict[str, str]:
        return {"id": await AsyncVropsClient.shared().unmark_host_maintained(event.host.name)}

    return router


def test_handlers_use_the_fixture_client_on_every_platform(
    platform: Platform, fake_vrops: FakeVrops, vrops_client: VropsClient
) -> None:
    fake_vrops.add_host("esx01.lab", "host-19")
    with client(_vrops_router(), platform=platform) as function:
        assert function.send("EnteredMaintenanceModeEvent", host__name="esx01.lab").ok
        assert fake_vrops.state_of("esx01.lab") == "MAINTAINED_MANUAL"
        assert function.send("ExitMaintenanceModeEvent", host__name="esx01.lab").ok
        assert fake_vrops.state_of("esx01.lab") == "STARTED"
    assert VropsClient.shared() is vrops_client


def test_lambda_post_takes_json_text() -> None:
    from veba_sdk.testing import to_eventbridge

    seen: list[Any] = []
    with client(make_router(seen), platform="lambda") as function:
        text = json.dumps(to_eventbridge(make_event("EnteredMaintenanceModeEvent")))
        assert function.post(text).status == 200
        rejected = function.post(b"not json at all")
    assert rejected.status == 400
    assert isinstance(rejected.error, InvalidEvent)
