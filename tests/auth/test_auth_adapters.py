"""auth= on every adapter factory, in process: the classic watchdog, func-python's
CloudEvents mode, Lambda's refusal, and what auth=None costs."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from collections.abc import MutableMapping
from typing import Any, cast

import pytest

from veba_sdk import ConfigError, Router
from veba_sdk.adapters import aws_lambda, knative, openfaas
from veba_sdk.auth import BasicAuth, HMACAuth
from veba_sdk.testing import make_event, to_openfaas

SECRET = "classic-secret-77"


def routed() -> tuple[Router, list[str]]:
    router = Router()
    seen: list[str] = []

    @router.on("VmPoweredOnEvent")
    def handled(event: Any, ctx: Any) -> None:
        seen.append(ctx.id)

    return router, seen


def body() -> bytes:
    data: bytes = to_openfaas(make_event("VmPoweredOnEvent"))["body"]
    return data


def test_classic_watchdog_reads_the_signature_from_http_variables() -> None:
    router, seen = routed()
    payload = body()
    signature = HMACAuth(SECRET).signature(payload)
    environ = {"Http_Method": "POST", "Http_Path": "/", "Http_X_Hub_Signature_256": signature}
    handle = openfaas.classic_handler(router, environ=environ, auth=HMACAuth(SECRET))
    assert handle(payload.decode()) == ""
    assert len(seen) == 1
    environ["Http_X_Hub_Signature_256"] = HMACAuth("guess").signature(payload)
    answer = handle(payload.decode())
    assert answer == "401 X-Hub-Signature-256 does not match the body\n"
    del environ["Http_X_Hub_Signature_256"]
    assert handle(payload.decode()).startswith("401 no signature")
    assert len(seen) == 1


class _Sender:
    """func-python's CloudEvents-middleware ``send``: ``http`` is the raw ASGI send."""

    def __init__(self) -> None:
        self.messages: list[MutableMapping[str, Any]] = []

    async def http(self, message: MutableMapping[str, Any]) -> None:
        self.messages.append(message)


def _func_call(function: knative.FuncFunction, headers: list[tuple[bytes, bytes]]) -> int:
    from cloudevents.http import from_http

    payload = body()
    event = from_http({"content-type": "application/cloudevents+json"}, payload)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "event": event}
    sender = _Sender()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(function.handle(scope, receive, sender))
    status: int = sender.messages[0]["status"]
    return status


def test_func_cloudevents_mode_checks_headers() -> None:
    router, seen = routed()
    function = knative.new(router, auth=BasicAuth("veba", "pw"))
    assert _func_call(function, []) == 401
    good = b"Basic " + base64.b64encode(b"veba:pw")
    assert _func_call(function, [(b"authorization", good)]) == 204
    assert len(seen) == 1
    # A body check cannot run on an event the middleware decoded: refused, never let through.
    signed = knative.new(router, auth=HMACAuth(SECRET))
    assert _func_call(signed, [(b"x-hub-signature-256", b"sha256=00")]) == 401
    assert len(seen) == 1


def test_lambda_refuses_a_check_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    router, _ = routed()
    with pytest.raises(ConfigError, match="authenticated by IAM"):
        aws_lambda.handler(router, auth=BasicAuth("u", "p"))
    monkeypatch.setenv("VEBA_AUTH", "basic")
    with pytest.raises(ConfigError, match="VEBA_AUTH"):
        aws_lambda.handler(router)
    monkeypatch.setenv("VEBA_AUTH", "none")
    assert callable(aws_lambda.handler(router))


def test_auth_none_leaves_every_adapter_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VEBA_AUTH", raising=False)
    router, _ = routed()
    assert knative.asgi(router).auth is None
    assert knative.wsgi(router).auth is None


def test_importing_adapters_loads_no_jwt_library() -> None:
    """``veba_sdk.auth`` is imported by the HTTP adapters; with no check configured that
    loads neither attrs nor hmac, and PyJWT, cryptography and urllib only come with an
    OIDCAuth."""
    code = (
        "import sys\n"
        "import veba_sdk.adapters.knative, veba_sdk.adapters.openfaas\n"
        "import veba_sdk.adapters.aws_lambda\n"
        "from veba_sdk.auth import from_env\n"
        "from_env({})\n"
        "names = ('jwt', 'cryptography', 'urllib.request', 'attr', 'hmac')\n"
        "print(sorted(m for m in names if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_from_router_config_hands_auth_to_the_adapter() -> None:
    from pathlib import Path

    from veba_sdk.adapters import from_router_config

    configs = Path(__file__).parents[1] / "fixtures" / "router-configs"
    router, seen = routed()
    check = BasicAuth("veba", "pw")
    app = from_router_config(
        router, configs / "dev__event-router-config-vcenter-knative.yaml", auth=check
    )
    assert isinstance(app, knative.ASGIApp)
    assert app.auth is check
    handle = from_router_config(
        router, configs / "dev__event-router-config-vcenter-openfaas.yaml", auth=check
    )
    handle = cast("openfaas.PythonHttpHandle", handle)  # what the openfaas processor gets

    class Event:
        body = body()
        headers: dict[str, str] = {}
        method = "POST"
        path = "/"

    assert handle(Event(), None)["statusCode"] == 401
    assert seen == []
    with pytest.raises(ConfigError, match="IAM"):
        from_router_config(
            router, configs / "dev__event-router-config-vcenter-aws.yaml", auth=check
        )
