"""A 204 answer carries no Content-Length (RFC 9110 15.3.5), on every HTTP adapter path."""

from __future__ import annotations

import asyncio
import io
from collections.abc import MutableMapping
from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi, wsgi
from veba_sdk.testing import make_event, to_cloudevent

router = Router()
router.on("EnteredMaintenanceModeEvent")(lambda event: None)


def _request() -> tuple[dict[str, str], bytes]:
    return to_cloudevent(make_event("EnteredMaintenanceModeEvent"), producer="vsphere-source")


def test_asgi_204_has_no_content_length() -> None:
    headers, body = _request()
    sent: list[MutableMapping[str, Any]] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi(router)(scope, receive, send))
    start = sent[0]
    assert start["status"] == 204
    assert all(name != b"content-length" for name, _ in start["headers"])
    assert sent[1]["body"] == b""


def test_wsgi_204_has_no_content_length_but_400_has() -> None:
    headers, body = _request()
    app = wsgi(router)
    answers: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answers.append((status, response_headers))

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE")
    assert b"".join(app(environ, start_response)) == b""
    status, response_headers = answers[0]
    assert status.startswith("204")
    assert all(name.lower() != "content-length" for name, _ in response_headers)
    bad: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": "1",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(b"{"),
    }
    reason = b"".join(app(bad, start_response))
    status, response_headers = answers[1]
    assert status.startswith("400")
    assert ("Content-Length", str(len(reason))) in response_headers
