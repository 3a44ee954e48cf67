"""Knative: the ASGI app under uvicorn, the WSGI app under gunicorn, ``new`` under func-python.

Requests are made by the ``cloudevents`` SDK's own ``to_binary``/``to_structured`` and sent
over real HTTP on loopback, in every producer shape of every captured vCenter fixture. The
served app is ``tests/adapters/_http_apps.py``: its handlers answer what they saw as JSON,
reply, fail or report threads when a ``vebatest`` extension asks them to.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from _drive import asgi_request, wsgi_request
from _servers import HERE, PYTHON, free_port, gunicorn_argv, running, server_env, uvicorn_argv
from _shapes import ENTER_XML, Shape, minimal, openfaas_body, producer_shapes, sdk_request
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent, from_http

import veba_sdk
from veba_sdk import Reply, Router
from veba_sdk.adapters import knative

pytestmark = pytest.mark.slow

SHAPES = producer_shapes()
ENTER = next(s for s in SHAPES if s.label == "EnteredMaintenanceModeEvent-vsphere-source")
ROUTER_ENTER = next(s for s in SHAPES if s.label == "EnteredMaintenanceModeEvent-router-v0.7")
CE2_PYTHON = Path(os.environ.get("VEBA_CE2_VENV", "/work/venv-ce2")) / "bin" / "python"


# -- servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file handlers append to (``VEBA_TEST_LOG``), shared by every server here."""
    path = tmp_path_factory.mktemp("knative") / "handlers.log"
    path.touch()
    return path


@pytest.fixture(scope="module")
def uvicorn_url(log_file: Path) -> Iterator[str]:
    """``_http_apps:app`` (knative.asgi, binary replies) under uvicorn."""
    port = free_port()
    argv = uvicorn_argv("_http_apps:app", port)
    with running(argv, port, env={"VEBA_TEST_LOG": str(log_file)}) as url:
        yield url


@pytest.fixture(scope="module")
def gunicorn_url(log_file: Path) -> Iterator[str]:
    """``_http_apps:wsgi_app`` (knative.wsgi, structured replies, 256 KiB) under gunicorn."""
    port = free_port()
    argv = gunicorn_argv("_http_apps:wsgi_app", port, "--workers", "1")
    with running(argv, port, env={"VEBA_TEST_LOG": str(log_file)}) as url:
        yield url


@pytest.fixture(scope="module", params=["uvicorn-asgi", "gunicorn-wsgi"])
def server(request: pytest.FixtureRequest) -> str:
    """Each Knative server in turn."""
    name = "uvicorn_url" if request.param == "uvicorn-asgi" else "gunicorn_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One HTTP client for the module."""
    with httpx.Client(timeout=10.0) as http_client:
        yield http_client


def post(client: httpx.Client, url: str, shape: Shape, mode: str) -> httpx.Response:
    """POST a shape as the cloudevents SDK encodes it."""
    headers, body = sdk_request(shape, mode)
    return client.post(url + "/", headers=headers, content=body)


def check_described(response: httpx.Response, shape: Shape) -> None:
    """The ``describe`` handler saw the shape's event as the producer meant it."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    seen = response.json()
    assert seen["name"] == shape.name
    assert seen["category"] == shape.category
    assert seen["producer"] == shape.producer
    assert seen["id"] == shape.id
    key = shape.data.get("Key") if isinstance(shape.data, dict) else None
    if key is not None:
        assert seen["key"] == key


# -- every producer shape ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.label)
def test_every_producer_shape_over_http(
    server: str, client: httpx.Client, shape: Shape, mode: str
) -> None:
    check_described(post(client, server, shape, mode), shape)


@pytest.mark.parametrize("content_type", ["application/json", None])
@pytest.mark.parametrize(
    "shape", [s for s in SHAPES if s.label.startswith("captured-")], ids=lambda s: s.label
)
def test_openfaas_style_bodies_without_cloudevents_content_type(
    server: str, client: httpx.Client, shape: Shape, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(server + "/", headers=headers, content=openfaas_body(shape))
    check_described(response, shape)


def test_vsphere_source_xml_payload(server: str, client: httpx.Client) -> None:
    attributes = {
        "type": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0",
        "id": "42",
        "source": "https://vc/sdk",
        "eventclass": "event",
        "datacontenttype": "application/xml",
    }
    headers, body = to_binary(
        CloudEvent(attributes, ENTER_XML.decode()), data_marshaller=lambda text: text.encode()
    )
    response = client.post(server + "/", headers=dict(headers), content=body)
    assert response.status_code == 200, response.text
    assert response.json()["key"] == 42


# -- replies -------------------------------------------------------------------------------------


def test_reply_is_a_binary_cloudevent_under_uvicorn(uvicorn_url: str, client: httpx.Client) -> None:
    response = post(client, uvicorn_url, ENTER.with_extension("vebatest", "reply"), "binary")
    assert response.status_code == 200
    assert response.headers["ce-type"] == "com.example.veba.replied"
    reply = from_http(dict(response.headers), response.content)
    assert reply["source"] == "/veba-sdk/tests"
    assert reply["subject"] == "EnteredMaintenanceModeEvent"
    assert reply["vebatest"] == "reply"
    assert reply.data == {"inReplyTo": ENTER.id, "name": "EnteredMaintenanceModeEvent"}


def test_reply_is_a_structured_cloudevent_when_asked(
    gunicorn_url: str, client: httpx.Client
) -> None:
    response = post(
        client, gunicorn_url, ROUTER_ENTER.with_extension("vebatest", "reply"), "structured"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cloudevents+json")
    reply = from_http(dict(response.headers), response.content)
    assert reply["type"] == "com.example.veba.replied"
    assert reply.data == {"inReplyTo": ROUTER_ENTER.id, "name": "EnteredMaintenanceModeEvent"}


# -- status policy -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_a_handler_that_raises_gives_500_and_the_others_still_ran(
    server: str, client: httpx.Client, log_file: Path, mode: str
) -> None:
    shape = ENTER.with_extension("vebatest", "fail")
    shape = Shape(
        shape.label,
        {**shape.attributes, "id": f"fail-{mode}-{server[-5:]}"},
        shape.data,
        shape.name,
        shape.category,
        shape.producer,
    )
    response = post(client, server, shape, mode)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert text.count("\n") == 1
    assert text.endswith("\n")
    assert "fail_when_asked" in text
    assert shape.id in text
    assert "must not reach" not in text
    assert "Traceback" not in text
    assert f"ran-after-failure {shape.id}" in log_file.read_text().splitlines()


def test_an_event_no_route_selects_is_acknowledged(server: str, client: httpx.Client) -> None:
    response = post(client, server, minimal("UserLoginSessionEvent"), "binary")
    assert response.status_code == 204
    assert response.content == b""


def test_undecodable_input_is_400_with_one_line(server: str, client: httpx.Client) -> None:
    bad = ENTER.with_extension("eventclass", "nonsense")
    response = post(client, server, bad, "binary")
    assert response.status_code == 400
    assert response.text == "extension 'eventclass' must be one of event, eventex, extendedevent\n"


def test_batches(server: str, client: httpx.Client, log_file: Path) -> None:
    batch_type = {"content-type": "application/cloudevents-batch+json"}
    members = [ENTER, ROUTER_ENTER, SHAPES[-1]]
    body = json.dumps([{**s.attributes, "data": s.data} for s in members]).encode()
    response = client.post(server + "/", headers=batch_type, content=body)
    assert response.status_code == 200
    assert [seen["id"] for seen in response.json()] == [s.id for s in members]

    failing = ROUTER_ENTER.with_extension("vebatest", "fail")
    body = json.dumps([{**s.attributes, "data": s.data} for s in (ENTER, failing)]).encode()
    response = client.post(server + "/", headers=batch_type, content=body)
    assert response.status_code == 500
    assert response.text.startswith("1 of 2 events failed: event EnteredMaintenanceModeEvent")

    text = json.dumps([{**ENTER.attributes, "data": ENTER.data}, {"specversion": "1.0"}])
    response = client.post(server + "/", headers=batch_type, content=text.encode())
    assert response.status_code == 400
    assert response.text.startswith("batch item 1: missing required attribute")

    assert client.post(server + "/", headers=batch_type, content=b"[]").status_code == 204


# -- health, methods, limits ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health/liveness", "/health/readiness"])
def test_health_endpoints(server: str, client: httpx.Client, path: str) -> None:
    response = client.get(server + path)
    assert (response.status_code, response.text) == (200, "OK\n")
    head = client.head(server + path)
    assert (head.status_code, head.content) == (200, b"")
    post_probe = client.post(server + path, content=b"{}")
    assert post_probe.status_code == 405
    assert post_probe.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_methods_other_than_post_are_405(server: str, client: httpx.Client, method: str) -> None:
    response = client.request(method, server + "/")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    if method != "HEAD":
        assert response.text.startswith(f"method {method} not allowed")


def test_bodies_over_the_limit_are_413_and_the_server_carries_on(
    server: str, client: httpx.Client
) -> None:
    big = b'{"specversion": "1.0", "data": "' + b"x" * (2 << 20) + b'"}'
    response = client.post(server + "/", content=big)
    assert response.status_code == 413
    assert response.text.startswith("body is over the ")

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for _ in range(40):
            yield b"y" * 65536

    response = client.post(server + "/", content=chunks())
    assert response.status_code == 413
    check_described(post(client, server, ENTER, "binary"), ENTER)


def test_gunicorn_limit_is_configurable(gunicorn_url: str, client: httpx.Client) -> None:
    response = client.post(gunicorn_url + "/", content=b"z" * (300 * 1024))
    assert response.status_code == 413
    assert response.text == "body is over the 262144 byte limit\n"


def test_threads_under_uvicorn(uvicorn_url: str, client: httpx.Client) -> None:
    """Sync handlers run in a worker thread, async ones on the loop (the main thread), and the
    app serves with its garbage-collector threshold (set at lifespan startup)."""
    response = post(client, uvicorn_url, ENTER.with_extension("vebatest", "threads"), "binary")
    described, threads = response.json()
    assert described["sync_on_main_thread"] is False
    assert threads["async_on_main_thread"] is True
    assert threads["gc_young_threshold"] == knative.DEFAULT_YOUNG_THRESHOLD == 10_000


# -- in-process details ------------------------------------------------------------------------


def test_lifespan_and_readiness() -> None:
    app = knative.asgi(Router())
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def run() -> tuple[int, int]:
        ready, _, _ = await asgi_request(app, "GET", "/health/readiness", [], b"")
        await app({"type": "lifespan"}, receive, send)
        stopping, _, _ = await asgi_request(app, "GET", "/health/readiness", [], b"")
        return ready, stopping

    assert asyncio.run(run()) == (200, 503)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_probes_are_relative_to_where_the_app_is_mounted() -> None:
    async def mounted(scope: Any, receive: Any, send: Any) -> None:
        await knative.asgi(Router())({**scope, "root_path": "/fn"}, receive, send)

    status, _, body = asyncio.run(asgi_request(mounted, "GET", "/fn/health/liveness", [], b""))
    assert (status, body) == (200, b"OK\n")
    status, _, _ = wsgi_request(knative.wsgi(Router()), "GET", "/health/readiness", [], b"")
    assert status == 200


def test_websockets_are_refused() -> None:
    app = knative.asgi(Router())
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "websocket", "path": "/"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1003}]


def test_oversized_declared_body_is_not_read() -> None:
    app = knative.asgi(Router(), max_body=1000)
    status, _, _ = asyncio.run(
        asgi_request(app, "POST", "/", [(b"content-length", b"5000")], b"a" * 5000, chunk=100)
    )
    assert status == 413
    assert asgi_request.pulled_bytes == 0  # type: ignore[attr-defined]
    status, _, _ = asyncio.run(asgi_request(app, "POST", "/", [], b"a" * 5000, chunk=100))
    assert status == 413
    assert asgi_request.pulled_bytes <= 1100  # type: ignore[attr-defined]


def test_several_replies_become_a_batch_and_dict_values_json() -> None:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def first(event: Any, ctx: Any) -> Reply:
        return Reply(type="a.first", data=b"\x00\x01")

    @router.on("EnteredMaintenanceModeEvent")
    def second(event: Any, ctx: Any) -> None:
        ctx.reply(type="a.second", data="text")

    headers, body = sdk_request(ENTER, "binary")
    status, response_headers, response_body = wsgi_request(
        knative.wsgi(router), "POST", "/", headers.items(), body
    )
    assert status == 200
    assert response_headers["Content-Type"].startswith("application/cloudevents-batch+json")
    replies = json.loads(response_body)
    assert [r["type"] for r in replies] == ["a.second", "a.first"] or [
        r["type"] for r in replies
    ] == ["a.first", "a.second"]
    by_type = {r["type"]: r for r in replies}
    assert by_type["a.first"]["data_base64"] == "AAE="
    assert by_type["a.second"]["data"] == "text"


@pytest.mark.parametrize(("max_body", "reply_mode"), [(0, "binary"), (10, "xml"), (True, "binary")])
def test_options_are_checked(max_body: Any, reply_mode: Any) -> None:  # bad values on purpose
    with pytest.raises(ValueError, match=r"max_body|reply_mode"):
        knative.asgi(Router(), max_body=max_body, reply_mode=reply_mode)
    with pytest.raises(ValueError, match=r"max_body|reply_mode"):
        knative.wsgi(Router(), max_body=max_body, reply_mode=reply_mode)


def test_new_serves_the_module_level_router_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """``new()`` under func-python's HTTP middleware (raw request) and its CloudEvents one."""
    seen: list[str] = []
    module_router = Router()
    monkeypatch.setattr(veba_sdk, "router", module_router)  # new() reads it at call time

    @module_router.on("EnteredMaintenanceModeEvent")
    def entered(event: Any, ctx: Any) -> None:
        seen.append(ctx.id)

    function = knative.new()
    headers, body = sdk_request(ENTER, "binary")
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    status, _, _ = asyncio.run(asgi_request(_Raw(function), "POST", "/", raw, body))
    assert status == 204

    scope_event = CloudEvent(dict(ROUTER_ENTER.attributes), ROUTER_ENTER.data)
    status, _, _ = asyncio.run(asgi_request(_Decoded(function, scope_event), "POST", "/", [], b""))
    assert status == 204
    assert seen == [ENTER.id, ROUTER_ENTER.id]
    assert function.alive() == (True, "OK")
    function.start({"K_SERVICE": "fn"})
    assert function.ready() == (True, "OK")
    function.stop()
    assert function.ready() == (False, "not ready")


class _Raw:
    """func-python's HTTP middleware: ``handle`` gets the request as it came."""

    def __init__(self, function: knative.FuncFunction) -> None:
        self.function = function

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.function.handle(scope, receive, send)


class _Decoded:
    """func-python's CloudEvents middleware: the event in ``scope``, ``send.http`` raw."""

    def __init__(self, function: knative.FuncFunction, event: Any) -> None:
        self.function = function
        self.event = event

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        class Sender:
            http = staticmethod(send)

        await self.function.handle({**scope, "event": self.event}, receive, Sender())


# -- func-python (cloudevents 2.x) -------------------------------------------------------------


FUNCTION_PACKAGE = '''\
"""A Knative func Python function: the VEBA handlers on veba_sdk's module-level router."""
from .func import new
'''

FUNCTION_MODULE = """\
import veba_sdk
from veba_sdk.adapters.knative import new  # func-python calls new() for the Function

import _http_apps

veba_sdk.router.include(_http_apps.router)
"""

SCAFFOLD_MAIN = """\
import sys
from function import new
if sys.argv[1] == "cloudevent":
    from func_python.cloudevent import serve
else:
    from func_python.http import serve
serve(new)
"""


@pytest.fixture(scope="module")
def func_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A function laid out as ``func create -l python`` scaffolds it, plus the service main."""
    if not CE2_PYTHON.exists():
        pytest.skip(f"no func-python venv at {CE2_PYTHON.parent.parent} (VEBA_CE2_VENV)")
    probe = subprocess.run(
        [
            str(CE2_PYTHON),
            "-c",
            "import func_python, cloudevents, sys; "
            "sys.stdout.write(__import__('importlib.metadata').metadata.version('cloudevents'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"func-python venv is unusable: {probe.stderr.strip()[-200:]}")
    assert probe.stdout.startswith("2."), "the func-python venv must have cloudevents 2.x"
    root = tmp_path_factory.mktemp("func")
    (root / "function").mkdir()
    (root / "function" / "__init__.py").write_text(FUNCTION_PACKAGE)
    (root / "function" / "func.py").write_text(FUNCTION_MODULE)
    (root / "main.py").write_text(SCAFFOLD_MAIN)
    return root


@pytest.fixture(scope="module", params=["cloudevent", "http"])
def func_url(request: pytest.FixtureRequest, func_project: Path, log_file: Path) -> Iterator[str]:
    """func-python's own server (hypercorn) serving ``new`` with each of its middlewares."""
    port = free_port()
    env = {
        "LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "VEBA_TEST_LOG": str(log_file),
        "PYTHONPATH": os.pathsep.join([str(func_project), str(HERE)]),
    }
    argv = [str(CE2_PYTHON), str(func_project / "main.py"), request.param]
    with running(argv, port, env=env, cwd=func_project) as url:
        yield url


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize(
    "shape", [ENTER, ROUTER_ENTER, SHAPES[-1], SHAPES[10]], ids=lambda s: s.label
)
def test_func_python_serves_new(
    func_url: str, client: httpx.Client, shape: Shape, mode: str
) -> None:
    check_described(post(client, func_url, shape, mode), shape)


def test_func_python_policy(func_url: str, client: httpx.Client, log_file: Path) -> None:
    response = post(client, func_url, ENTER.with_extension("vebatest", "reply"), "binary")
    assert response.status_code == 200
    assert from_http(dict(response.headers), response.content)["type"] == (
        "com.example.veba.replied"
    )
    failing = ENTER.with_extension("vebatest", "fail")
    failing = Shape(
        failing.label,
        {**failing.attributes, "id": f"func-{func_url[-5:]}"},
        failing.data,
        failing.name,
        failing.category,
        failing.producer,
    )
    response = post(client, func_url, failing, "binary")
    assert response.status_code == 500
    assert "fail_when_asked" in response.text
    assert "must not reach" not in response.text
    assert f"ran-after-failure {failing.id}" in log_file.read_text().splitlines()
    assert post(client, func_url, minimal("UserLoginSessionEvent"), "binary").status_code == 204
    assert client.post(func_url + "/", content=b"{not json").status_code == 400
    assert client.get(func_url + "/health/liveness").status_code == 200


def test_importing_the_adapters_pulls_in_no_server_or_client() -> None:
    code = (
        "import sys, veba_sdk.adapters.knative, veba_sdk.adapters.openfaas; "
        "print(sorted(m for m in ('uvicorn', 'httpx', 'flask', 'starlette', 'gunicorn', "
        "'waitress', 'func_python') if m in sys.modules))"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], capture_output=True, text=True, check=True, env=server_env()
    )
    assert done.stdout.strip() == "[]"
