"""Secrets against a hostile server (issue 18, item 8): a real HTTP server on loopback that
echoes what it receives back in every place a client reads or logs.

The server answers with the request's body and ``Authorization`` header in its JSON
``message``, its ``validationFailures``, its status line's reason phrase and a response header,
raw, URL-encoded (as a form or a query string would carry them) and JSON-escaped (as a body
quoted inside JSON does); or it breaks the connection, or sends a body httpx cannot decode.
Neither the password nor the token may then appear in ``str``/``repr`` of the error, in any log
record (ours, httpx's INFO line, httpcore's DEBUG lines), nor be reachable from the error
through ``__cause__``/``__context__`` or an attribute holding the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from vrops_consts import FAST_RETRY, USERNAME

from veba_sdk.vrops import AsyncVropsClient, VropsAuthError, VropsClient, VropsError
from veba_sdk.vrops._base import Redactor

# Characters that each encoding changes: '!' and '/' (URL), '"' and '\' (JSON), non-ASCII.
PASSWORD = 'S3cr3t!pw"\u00fc/\\x'
TOKEN = "8f868cca-27cc-4896-a9ee-1d1e5f8e4b7d::e2f61bc4-a21e-4c0e-8a5e-4b6a3b0e3f51"


def encodings(secret: str) -> set[str]:
    """Every form a server may echo ``secret`` in."""
    quote = urllib.parse.quote
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        urllib.parse.quote_plus(secret),
        quote(secret, safe="").lower(),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


FORBIDDEN = encodings(PASSWORD) | encodings(TOKEN) | {"S3cr3t%21pw", "S3cr3t!pw"}


class Echo(socketserver.ThreadingTCPServer):
    """The hostile server: ``mode`` says how it answers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.mode = "echo"
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class EchoHandler(socketserver.StreamRequestHandler):
    server: Echo

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (header := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode("utf-8").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = self.rfile.read(int(headers.get("content-length", "0")))
            self.server.requests.append((target, headers, body))
            if not self.answer(method, target, headers, body):
                return

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
        mode = self.server.mode
        if target.endswith("/token/acquire") and mode.startswith("token-"):
            self.send(200, "OK", {"token": TOKEN, "validity": 4_102_444_800_000, "roles": []})
            return True
        if mode == "reset" or (mode == "token-reset" and "authorization" in headers):
            self.connection.shutdown(socket.SHUT_RDWR)  # no answer at all
            return False
        echoed = body.decode("utf-8") + " " + headers.get("authorization", "")
        quoted = urllib.parse.quote(echoed, safe="")
        if mode == "token-bad-gzip":
            raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            raw += b"Content-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!"
            self.wfile.write(raw)
            return True
        status = 401 if target.endswith("/token/acquire") else 500
        payload = {
            "message": f"bad request {echoed} {quoted}",
            "httpStatusCode": status,
            "apiErrorCode": 1,
            "validationFailures": [{"failureMessage": f"got {json.dumps(echoed)}"}],
        }
        self.send(status, f"Refused {quoted}", payload, {"X-Echo": quoted})
        return True

    def send(
        self, status: int, reason: str, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append(f"Content-Length: {len(data)}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def assert_clean(text: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text, f"{secret!r} in {text!r}"


def assert_nothing_reachable(exc: BaseException) -> None:
    """No exception on the chain carries a request, and none shows a secret."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        assert_clean(str(current))
        assert_clean(repr(current))
        assert not isinstance(current, httpx.HTTPError), f"an httpx error on the chain: {current!r}"
        for value in vars(current).values():
            assert not isinstance(value, (httpx.Request, httpx.Response)), value
        todo += [current.__cause__, current.__context__]
    assert exc.__cause__ is None
    assert exc.__context__ is None


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # httpx's INFO line and httpcore's DEBUG lines included
    return caplog


def assert_logs_clean(logs: pytest.LogCaptureFixture) -> None:
    assert any(r.name.startswith(("httpx", "httpcore")) for r in logs.records)  # logged at all
    for record in logs.records:
        assert_clean(record.getMessage())


def sync_client(url: str, **kwargs: Any) -> VropsClient:
    return VropsClient(url, USERNAME, PASSWORD, retry=FAST_RETRY, timeout=5.0, **kwargs)


def test_the_echo_shows_each_secret_in_each_encoding(echo: Echo) -> None:
    """The server is as hostile as meant: its answer holds the secrets in every encoding."""
    echo.mode = "token-echo"
    response = httpx.get(echo.url + "/x", headers={"Authorization": f"vRealizeOpsToken {TOKEN}"})
    text = response.text + response.reason_phrase + response.headers["x-echo"]
    assert TOKEN in text
    assert urllib.parse.quote(TOKEN, safe="") in text
    echo.mode = "echo"
    body = json.dumps({"password": PASSWORD})
    response = httpx.post(echo.url + "/suite-api/api/auth/token/acquire", content=body)
    text = response.text
    assert json.dumps(PASSWORD)[1:-1] in response.json()["message"]
    assert urllib.parse.quote(json.dumps(PASSWORD)[1:-1], safe="") in response.reason_phrase
    assert text


def test_refused_acquire_that_echoes_the_password(
    echo: Echo, logs: pytest.LogCaptureFixture
) -> None:
    with sync_client(echo.url) as client, pytest.raises(VropsAuthError) as info:
        client.get_resource("r1")
    assert b"password" in echo.requests[0][2]  # the password did travel, and came back
    assert info.value.status == 401
    assert "bad request" in str(info.value)
    assert_nothing_reachable(info.value)
    assert_logs_clean(logs)


def test_server_error_that_echoes_the_token(echo: Echo, logs: pytest.LogCaptureFixture) -> None:
    echo.mode = "token-echo"
    with sync_client(echo.url) as client, pytest.raises(VropsError) as info:
        client.get_resource("r1")
    assert echo.requests[-1][1]["authorization"] == f"vRealizeOpsToken {TOKEN}"
    assert info.value.status == 500
    assert_nothing_reachable(info.value)
    assert_logs_clean(logs)
    # httpx's own INFO line was written, with the reason phrase scrubbed
    lines = [r.getMessage() for r in logs.records if r.name == "httpx"]
    assert any("500 Refused" in line and "***" in line for line in lines), lines


@pytest.mark.parametrize("mode", ["reset", "token-reset", "token-bad-gzip"])
def test_transport_and_decoding_failures_carry_no_request(
    echo: Echo, logs: pytest.LogCaptureFixture, mode: str
) -> None:
    echo.mode = mode
    with sync_client(echo.url) as client, pytest.raises(VropsError) as info:
        client.get_resource("r1")
    assert info.value.status is None
    assert "failed" in str(info.value)
    assert_nothing_reachable(info.value)
    assert_logs_clean(logs)


@pytest.mark.parametrize("mode", ["echo", "token-echo", "reset", "token-reset", "token-bad-gzip"])
def test_the_async_client_too(echo: Echo, logs: pytest.LogCaptureFixture, mode: str) -> None:
    echo.mode = mode

    async def call() -> None:
        async with AsyncVropsClient(
            echo.url, USERNAME, PASSWORD, retry=FAST_RETRY, timeout=5.0
        ) as client:
            await client.get_resource("r1")

    with pytest.raises(VropsError) as info:
        asyncio.run(call())
    assert_nothing_reachable(info.value)
    assert_logs_clean(logs)


def test_the_redactor_scrubs_every_encoding() -> None:
    redact = Redactor(lambda: [PASSWORD, TOKEN])
    for secret in FORBIDDEN - {"S3cr3t%21pw", "S3cr3t!pw"}:
        assert redact(f"before {secret} after") == "before *** after"
    assert redact("nothing secret here") == "nothing secret here"
    short = Redactor(lambda: ["ab", ""])  # too short to scrub without eating the text
    assert short("a b ab") == "a b ab"
