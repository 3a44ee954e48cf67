"""OpenFaaS: ``handler`` behind the python3-http template's Flask ``index.py``, under waitress.

Driven over HTTP on loopback with the bodies VEBA's OpenFaaS processor posts (the structured
CloudEvent JSON without a CloudEvents content type), with SDK-made binary and structured
requests, and in-process for the classic watchdog's ``handle(req)``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from _servers import HERE, PYTHON, free_port, running
from _shapes import Shape, minimal, openfaas_body, producer_shapes, sdk_request
from cloudevents.http import from_http

from veba_sdk import HandlerError, Router
from veba_sdk.adapters import openfaas
from veba_sdk.adapters.openfaas import OpenFaaSEvent

pytestmark = pytest.mark.slow

SHAPES = producer_shapes()
ENTER = next(s for s in SHAPES if s.label == "EnteredMaintenanceModeEvent-router-v0.7")


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file the served handlers append to."""
    path = tmp_path_factory.mktemp("openfaas") / "handlers.log"
    path.touch()
    return path


@pytest.fixture(scope="module")
def url(log_file: Path) -> Iterator[str]:
    """The python3-http template app (Flask) under waitress, as in the function image."""
    port = free_port()
    argv = [PYTHON, str(HERE / "_openfaas_app.py"), str(port)]
    with running(argv, port, env={"VEBA_TEST_LOG": str(log_file)}) as base:
        yield base


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One HTTP client for the module."""
    with httpx.Client(timeout=10.0) as http_client:
        yield http_client


def described(response: httpx.Response, shape: Shape) -> None:
    """The handler saw the shape's event."""
    assert response.status_code == 200, response.text
    seen = response.json()
    assert (seen["name"], seen["id"], seen["producer"]) == (shape.name, shape.id, shape.producer)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.label)
def test_veba_structured_bodies(
    url: str, client: httpx.Client, shape: Shape, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    described(client.post(url + "/", headers=headers, content=openfaas_body(shape)), shape)


@pytest.fixture(scope="module")
def image_url(log_file: Path) -> Iterator[str]:
    """The kit image's server: ``veba_sdk.cli.openfaas_wsgi.serve`` (waitress) around ``handle``."""
    port = free_port()
    code = (
        "import sys; from _openfaas_app import handle; "
        "from veba_sdk.cli.openfaas_wsgi import serve; "
        "serve(handle, '127.0.0.1', int(sys.argv[1]))"
    )
    with running([PYTHON, "-c", code, str(port)], port, env={"VEBA_TEST_LOG": str(log_file)}) as b:
        yield b


#: What reaches an OpenFaaS function in practice: VEBA's processor (no type), ``curl -d``
#: (form-urlencoded), ``faas-cli invoke`` (text/plain), and odd ones seen in hand-made requests.
ODD_TYPES = [
    "application/x-www-form-urlencoded",
    "text/plain; charset=utf-8",
    "application/octet-stream",
    "application/xml",
]


@pytest.mark.parametrize("server", ["template", "image"])
@pytest.mark.parametrize("content_type", ODD_TYPES)
def test_structured_body_whatever_the_content_type(
    request: pytest.FixtureRequest, client: httpx.Client, server: str, content_type: str
) -> None:
    base = request.getfixturevalue("url" if server == "template" else "image_url")
    for shape in (ENTER, SHAPES[-1]):
        headers = {"Content-Type": content_type}
        described(client.post(base + "/", headers=headers, content=openfaas_body(shape)), shape)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
@pytest.mark.parametrize("server", ["template", "image"])
def test_curl_data_at_file(request: pytest.FixtureRequest, tmp_path: Path, server: str) -> None:
    """``curl -d @event.json``: form-urlencoded, and curl strips the file's newlines."""
    base = request.getfixturevalue("url" if server == "template" else "image_url")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(json.loads(openfaas_body(ENTER)), indent=2) + "\n")
    done = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", "-d", f"@{event}", base + "/"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status == "200", done.stdout
    seen = json.loads(body)
    assert (seen["name"], seen["id"]) == (ENTER.name, ENTER.id)


def test_binary_mode_keeps_its_content_type(url: str, client: httpx.Client) -> None:
    """With ``ce-*`` headers the content type describes the data, as the binding says."""
    headers, body = sdk_request(ENTER, "binary")
    described(client.post(url + "/", headers=headers, content=body), ENTER)
    odd = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    odd["Content-Type"] = "application/x-www-form-urlencoded"
    response = client.post(url + "/", headers=odd, content=body)
    assert response.status_code == 400
    assert response.text.count("\n") == 1


def test_a_non_json_body_keeps_the_content_type_reason(url: str, client: httpx.Client) -> None:
    response = client.post(url + "/", headers={"Content-Type": "image/png"}, content=b"\x89PNG")
    assert (response.status_code, response.text) == (
        400,
        "content type 'image/png' is not a CloudEvent\n",
    )
    form = client.post(url + "/", data={"specversion": "1.0"})  # a real form body
    assert form.status_code == 400


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_sdk_requests(url: str, client: httpx.Client, mode: str) -> None:
    for shape in (ENTER, SHAPES[-1], SHAPES[11]):
        headers, body = sdk_request(shape, mode)
        described(client.post(url + "/", headers=headers, content=body), shape)


def test_a_failing_handler_is_500_so_veba_retries(
    url: str, client: httpx.Client, log_file: Path
) -> None:
    shape = ENTER.with_extension("vebatest", "fail")
    response = client.post(url + "/", content=openfaas_body(shape))
    assert response.status_code == 500
    assert response.text == (
        f"handler failed for event EnteredMaintenanceModeEvent id {shape.id}: "
        "fail_when_asked (RuntimeError)\n"
    )
    assert f"ran-after-failure {shape.id}" in log_file.read_text().splitlines()


def test_reply_is_a_structured_cloudevent(url: str, client: httpx.Client) -> None:
    response = client.post(
        url + "/", content=openfaas_body(ENTER.with_extension("vebatest", "reply"))
    )
    assert response.status_code == 200
    reply = from_http(dict(response.headers), response.content)
    assert reply["type"] == "com.example.veba.replied"
    assert reply.data["inReplyTo"] == ENTER.id


def test_policy_answers(url: str, client: httpx.Client) -> None:
    no_route = client.post(url + "/", content=openfaas_body(minimal("UserLoginSessionEvent")))
    assert (no_route.status_code, no_route.content) == (204, b"")
    bad = client.post(url + "/", content=b'{"specversion": "1.0", "id": "1"}')
    assert (bad.status_code, bad.text) == (400, "missing required attribute 'source'\n")
    assert client.post(url + "/", content=b"").status_code == 400
    assert client.get(url + "/").status_code == 405
    assert client.head(url + "/").status_code == 405
    assert client.put(url + "/", content=b"{}").status_code == 405
    big = client.post(url + "/", content=b"{" + b" " * (2 << 20) + b"}")
    assert (big.status_code, big.text) == (413, "body is over the 1048576 byte limit\n")
    described(client.post(url + "/", content=openfaas_body(ENTER)), ENTER)


# -- in-process: the Protocol, the classic watchdog ----------------------------------------------


@dataclass
class FakeEvent:
    """A python3-http ``Event`` with a plain dict of headers (checked against the Protocol)."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    path: str = "/"
    query: Mapping[str, str] = field(default_factory=dict)


def _router(seen: list[str]) -> Router:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def entered(event: Any, ctx: Any) -> dict[str, Any]:
        seen.append(ctx.id)
        return {"host": event.host.name}

    @router.on("VmPoweredOffEvent")
    def broken(event: Any) -> None:
        raise ValueError("nope")

    return router


def test_handler_in_process_with_a_fake_event() -> None:
    seen: list[str] = []
    handle = openfaas.handler(_router(seen))
    event: OpenFaaSEvent = FakeEvent(openfaas_body(ENTER), {"Content-Type": "application/json"})
    answer = handle(event, None)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"host": ENTER.data["Host"]["Name"]}
    assert answer["headers"] == {"Content-Type": "application/json"}
    assert seen == [ENTER.id]
    assert handle(FakeEvent(b"", method="GET"), None)["statusCode"] == 405


def test_classic_handler() -> None:
    seen: list[str] = []
    handle = openfaas.classic_handler(_router(seen), environ={})
    assert json.loads(handle(openfaas_body(ENTER).decode())) == {"host": ENTER.data["Host"]["Name"]}
    assert handle('{"specversion": "1.0"}') == "400 missing required attribute 'id'\n"
    powered_off = next(s for s in SHAPES if s.name == "VmPoweredOffEvent")
    with pytest.raises(HandlerError, match="broken"):
        handle(openfaas_body(powered_off).decode())
    assert seen == [ENTER.id]


def test_classic_handler_reads_binary_mode_from_watchdog_environment() -> None:
    seen: list[str] = []
    headers, body = sdk_request(ENTER, "binary")
    environ = {
        "Http_" + "_".join(part.capitalize() for part in name.split("-")): value
        for name, value in headers.items()
    }
    environ["Http_Method"] = "POST"
    handle = openfaas.classic_handler(_router(seen), environ=environ)
    assert json.loads(handle(body.decode())) == {"host": ENTER.data["Host"]["Name"]}
    assert seen == [ENTER.id]


@pytest.mark.parametrize("content_type", ODD_TYPES)
def test_classic_handler_takes_structured_json_whatever_the_type(content_type: str) -> None:
    """The classic watchdog hands ``Content-Type`` over as ``Http_Content_Type``."""
    seen: list[str] = []
    environ = {"Http_Method": "POST", "Http_Content_Type": content_type}
    handle = openfaas.classic_handler(_router(seen), environ=environ)
    assert json.loads(handle(openfaas_body(ENTER).decode())) == {"host": ENTER.data["Host"]["Name"]}
    assert seen == [ENTER.id]
