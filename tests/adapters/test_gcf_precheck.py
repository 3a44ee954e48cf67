"""Issue 18, item 3: what functions-framework's parser answered with 500 is a 400 now.

The probe got 788 answers of 500 from inside functions-framework or the cloudevents SDK: deeply
nested JSON, ``application/cloudevents-batch+json`` with ``[{}]``, integers over Python's 4,300
digits, bad ``data_base64``, non-object JSON, non-UTF-8 bodies. ``gcf.function`` made inside
``functions_framework.create_app`` registers a check on the framework's Flask app that answers
those with 400 (and oversized bodies with 413) before the framework parses them.

Each case runs against two apps made by functions-framework itself from a source file: one
whose function is ``gcf.function(router)`` (must answer 4xx with a one-line reason), and one
whose function is a plain ``def`` (the framework alone: still its 500, which shows each case
is a real one and what is left when the SDK's function is not the target).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

functions_framework = pytest.importorskip("functions_framework")

EVENTS = Path(__file__).parent.parent / "fixtures" / "veba-events"
ROUTER_CE = EVENTS / "VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo.json"
STRUCTURED = "application/cloudevents+json"

MAIN = """
from veba_sdk import Router
from veba_sdk.adapters.gcf import function

router = Router()
seen = []


@router.on("VmPoweredOffEvent")
def off(event, ctx):
    seen.append(ctx.id)


handle = function(router)
"""
# The framework alone: a module that never calls gcf.function.
FRAMEWORK_ONLY = """
seen = []


def plain(cloud_event):
    seen.append(cloud_event["id"])
"""


def _valid() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ROUTER_CE.read_text())
    return document


def _structured(**changes: Any) -> bytes:
    return json.dumps({**_valid(), **changes}).encode()


def _binary_headers() -> dict[str, str]:
    document = _valid()
    headers = {f"ce-{key}": str(value) for key, value in document.items() if key != "data"}
    headers.pop("ce-datacontenttype", None)
    headers["content-type"] = "application/json"
    return headers


DEEP = b"[" * 100_000
HUGE_INT = b"1" * 5_000
# (headers, body): each was a 500 from the framework's parser.
CASES: dict[str, tuple[dict[str, str], bytes]] = {
    "deep JSON, structured": ({"content-type": STRUCTURED}, DEEP),
    "deep JSON, no content type": ({}, b'{"a":' + DEEP),
    "deep JSON data, binary": (_binary_headers(), DEEP),
    "batch [{}]": ({"content-type": "application/cloudevents-batch+json"}, b"[{}]"),
    "int over 4,300 digits, structured": (
        {"content-type": STRUCTURED},
        _structured().replace(b'"specversion"', b'"n": ' + HUGE_INT + b', "specversion"', 1),
    ),
    "int over 4,300 digits, binary data": (_binary_headers(), b'{"Key": ' + HUGE_INT + b"}"),
    "bad data_base64": (
        {"content-type": STRUCTURED},
        json.dumps(
            {**{k: v for k, v in _valid().items() if k != "data"}, "data_base64": "abc"}
        ).encode(),
    ),
    "JSON array": ({"content-type": STRUCTURED}, b"[1, 2]"),
    "non-UTF-8": ({"content-type": "application/octet-stream"}, b"\x00\xff\x13"),
}


@pytest.fixture(scope="module")
def sdk_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("gcf-precheck") / "main.py"
    path.write_text(textwrap.dedent(MAIN))
    return functions_framework.create_app("handle", str(path), "cloudevent")


@pytest.fixture(scope="module")
def framework_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("gcf-framework-only") / "main.py"
    path.write_text(textwrap.dedent(FRAMEWORK_ONLY))
    return functions_framework.create_app("plain", str(path), "cloudevent")


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_400_before_the_framework_parses(sdk_app: Any, case: str) -> None:
    headers, body = CASES[case]
    response = sdk_app.test_client().post("/", headers=headers, data=body)
    assert response.status_code == 400, response.data[:200]
    assert response.headers["content-type"].startswith("text/plain")
    text = response.get_data()
    assert text.endswith(b"\n"), text
    assert text.count(b"\n") == 1, text
    assert len(text) < 400, text


@pytest.mark.parametrize("case", list(CASES))
def test_without_the_sdk_function_the_framework_answers_500(framework_app: Any, case: str) -> None:
    headers, body = CASES[case]
    response = framework_app.test_client().post("/", headers=headers, data=body)
    assert response.status_code == 500


def test_valid_events_still_reach_the_handler(sdk_app: Any) -> None:
    client = sdk_app.test_client()
    structured = client.post("/", headers={"content-type": STRUCTURED}, data=_structured(id="s1"))
    binary = client.post(
        "/",
        headers={**_binary_headers(), "ce-id": "b1"},
        data=json.dumps(_valid()["data"]).encode(),
    )
    assert (structured.status_code, binary.status_code) == (200, 200)
    assert structured.get_data() == b"OK"


def test_over_the_limit_is_413_unread(sdk_app: Any) -> None:
    body = b'{"x": "' + b"a" * (1 << 20) + b'"}'
    response = sdk_app.test_client().post("/", headers={"content-type": STRUCTURED}, data=body)
    assert response.status_code == 413
    assert response.get_data() == b"body is over the 1048576 byte limit\n"


def test_a_legacy_background_event_is_left_to_the_framework(sdk_app: Any) -> None:
    """The framework converts a pre-CloudEvents GCF event; the check must not refuse it."""
    event = {
        "context": {
            "eventId": "1",
            "timestamp": "2020-01-01T00:00:00Z",
            "eventType": "google.pubsub.topic.publish",
            "resource": {"service": "pubsub.googleapis.com", "name": "projects/p/topics/t"},
        },
        "data": {"data": base64.b64encode(b"hi").decode()},
    }
    response = sdk_app.test_client().post(
        "/", headers={"content-type": "application/json"}, data=json.dumps(event).encode()
    )
    assert response.status_code == 200, response.data[:300]


def test_registered_once_per_app(sdk_app: Any) -> None:
    from veba_sdk import Router
    from veba_sdk.adapters.gcf import function

    before = list(sdk_app.before_request_funcs.get(None, []))
    with sdk_app.app_context():
        function(Router(), "again")
    assert sdk_app.before_request_funcs.get(None, []) == before
    assert len([f for f in before if f.__name__ == "veba_precheck"]) == 1


# -- under functions-framework's own server (gunicorn) ---------------------------------------


def _read_response(sock: socket.socket) -> bytes:
    """One HTTP response with a ``Content-Length``, however the segments arrive."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if len(body) >= length:
                return data
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


@pytest.mark.slow
def test_malformed_chunks_under_the_frameworks_gunicorn_are_400(tmp_path: Path) -> None:
    """gunicorn raises InvalidChunkSize while the body is read: inside the check, a 400."""
    (tmp_path / "main.py").write_text(textwrap.dedent(MAIN))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = shutil.which("functions-framework", path=os.path.dirname(sys.executable))
    command = [
        executable or "functions-framework", "--source", str(tmp_path / "main.py"),
        "--target", "handle", "--signature-type", "cloudevent",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    env = dict(os.environ, WORKERS="1", THREADS="2")
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "functions-framework exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "functions-framework did not start"
                time.sleep(0.05)
        for chunks in (b"zz\r\nab\r\n0\r\n\r\n", b"5\r\nab\r\n0\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(
                    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + STRUCTURED.encode()
                    + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
                )  # fmt: skip
                answer = _read_response(sock)
            assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
            assert answer.endswith(b"unreadable request body (InvalidChunkSize)\n"), answer
    finally:
        process.terminate()
        process.wait(timeout=10)
