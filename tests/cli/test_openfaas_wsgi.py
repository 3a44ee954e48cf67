"""Issue 18, item 2: the OpenFaaS WSGI app bounds the body before it reads it.

Measured before (wsgiref under ``veba serve --adapter openfaas``): ``Content-Length:
18446744073709551616`` or ``10**12`` gave a 500 (OverflowError / MemoryError), the body was read
before the size check, every chunked body got 400 "the event has no data", and a declared
1 MiB + 1 with a short body hung. The server side is waitress now (its framing is tested over
real sockets in ``tests/adapters/test_hostile_serve.py``); the app's own bounds, which hold
under any WSGI server, are tested here in process.
"""

from __future__ import annotations

import io
import json
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from veba_sdk import Router
from veba_sdk.adapters.openfaas import handler
from veba_sdk.cli.openfaas_wsgi import wsgi_app

# The status line names the interpreter's phrase: "Content Too Large" from Python 3.13 (RFC 9110).
TOO_LARGE = f"413 {HTTPStatus(413).phrase}"

EVENTS = Path(__file__).parent.parent / "fixtures" / "veba-events"
ROUTER_CE = EVENTS / "VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo.json"
BODY = ROUTER_CE.read_bytes()
MIB = 1 << 20
#: What waitress and gunicorn add to the environ of a chunked request they decoded.
TERMINATED: dict[str, Any] = {"wsgi.input_terminated": True}


class CountingStream(io.BytesIO):
    """``wsgi.input`` that records how many bytes the app asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.requested = 0

    def read(self, size: int | None = -1) -> bytes:
        self.requested += len(self.getvalue()) if size is None or size < 0 else size
        return super().read(size)


def _router() -> Router:
    router = Router()

    @router.on("VmPoweredOffEvent")
    def off(event: Any, ctx: Any) -> dict[str, str]:
        return {"name": ctx.name}

    return router


def call(
    body: bytes, *, length: str | None, method: str = "POST", **environ: Any
) -> tuple[str, dict[str, str], bytes, CountingStream]:
    stream = CountingStream(body)
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "wsgi.input": stream,
        **environ,
    }
    if length is not None:
        env["CONTENT_LENGTH"] = length
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    app = wsgi_app(handler(_router()))
    data = b"".join(app(env, start_response))
    return answer["status"], answer["headers"], data, stream


@pytest.mark.parametrize("length", ["18446744073709551616", str(10**12), str(MIB + 1), "9" * 400])
def test_a_length_over_the_limit_is_413_unread(length: str) -> None:
    status, headers, body, stream = call(BODY, length=length)
    assert status == TOO_LARGE
    assert body == b"body is over the 1048576 byte limit\n"
    assert headers["Content-Length"] == str(len(body))
    assert stream.requested == 0


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", "\u0661\u0662"])
def test_a_length_that_is_no_number_is_400_unread(length: str) -> None:
    status, _, body, stream = call(BODY, length=length)
    assert status == "400 Bad Request"
    assert body == b"Content-Length is not a number\n"
    assert stream.requested == 0


def test_exactly_the_limit_is_read_and_decoded() -> None:
    padded = BODY.rstrip()[:-1] + b', "pad": "' + b"x" * 10 + b'"}'
    padded = padded + b" " * (MIB - len(padded))
    assert len(padded) == MIB
    status, _, body, stream = call(padded, length=str(MIB))
    assert status == "200 OK", body
    assert json.loads(body) == {"name": "VmPoweredOffEvent"}
    assert stream.requested == MIB


def test_a_decoded_chunked_body_is_read_to_its_end() -> None:
    """waitress and gunicorn decode chunked bodies and say the stream ends there."""
    status, _, body, _ = call(BODY, length=None, **TERMINATED)
    assert status == "200 OK", body
    assert json.loads(body) == {"name": "VmPoweredOffEvent"}


def test_an_endless_chunked_body_is_read_to_the_limit_only() -> None:
    status, _, body, stream = call(b"x" * (3 * MIB), length=None, **TERMINATED)
    assert status == TOO_LARGE
    assert body == b"body is over the 1048576 byte limit\n"
    assert stream.requested == MIB + 1


def test_chunked_from_a_server_that_does_not_decode_it_is_411() -> None:
    status, _, body, stream = call(BODY, length=None, HTTP_TRANSFER_ENCODING="chunked")
    assert status == "411 Length Required"
    assert body.count(b"\n") == 1
    assert stream.requested == 0


def test_head_has_no_body() -> None:
    status, headers, body, _ = call(b"", length=None, method="HEAD")
    assert status == "405 Method Not Allowed"
    assert body == b""
    assert int(headers["Content-Length"]) > 0


def test_a_larger_limit_is_the_callers() -> None:
    app = wsgi_app(handler(_router(), max_body=4 * MIB), max_body=4 * MIB)
    padded = BODY.rstrip()[:-1] + b', "pad": "' + b"x" * (2 * MIB) + b'"}'
    answer: dict[str, str] = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(padded)),
        "wsgi.input": io.BytesIO(padded),
    }
    data = b"".join(app(environ, lambda status, headers: answer.update(status=status)))
    assert answer["status"] == "200 OK", data
