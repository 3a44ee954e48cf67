"""from_router_config: VEBA's own RouterConfigs pick the adapter, and the adapter serves.

Every file of ``tests/fixtures/router-configs/`` is tried. The plain RouterConfigs (not ytt
templates, Helm charts, JSON schemas or multi-document manifests) must each give a working
adapter for their ``eventProcessor.type``; the rest must be refused with ``ConfigError``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest

from veba_sdk import Context, Router
from veba_sdk._errors import ConfigError
from veba_sdk.adapters import from_router_config, knative
from veba_sdk.config import load_router_config

if TYPE_CHECKING:
    from veba_sdk.adapters.aws_lambda import LambdaHandler
    from veba_sdk.adapters.openfaas import PythonHttpHandle

CONFIGS = Path(__file__).parent.parent / "fixtures" / "router-configs"
EVENT = (
    Path(__file__).parent.parent
    / "fixtures"
    / "veba-events"
    / ("VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo.json")
)

#: The plain RouterConfigs among the fixtures, by processor type.
PLAIN = {
    "dev__event-router-config-horizon-knative.yaml": "knative",
    "dev__event-router-config-vcenter-aws-iam-role-auth.yaml": "aws_event_bridge",
    "dev__event-router-config-vcenter-aws.yaml": "aws_event_bridge",
    "dev__event-router-config-vcenter-knative.yaml": "knative",
    "dev__event-router-config-vcenter-openfaas.yaml": "openfaas",
    "dev__event-router-config-webhook-knative.yaml": "knative",
    "v0.5.0__event-router-config-knative.yaml": "knative",
    "v0.6.0__event-router-config-aws.yaml": "aws_event_bridge",
    "v0.6.0__event-router-config-knative.yaml": "knative",
    "v0.6.0__event-router-config-openfaas.yaml": "openfaas",
}
OTHERS = sorted(p.name for p in CONFIGS.iterdir() if p.name not in PLAIN)


class Served:
    """A router that records the events it handled and replies to each."""

    def __init__(self) -> None:
        self.router = Router()
        self.seen: list[str] = []

        @self.router.on("VmPoweredOffEvent")
        def off(event: Any, ctx: Context) -> None:
            self.seen.append(ctx.id)
            ctx.reply(type="com.example.vm.off.handled", data={"vm": event.vm.name})


def _structured_body() -> bytes:
    return EVENT.read_bytes()


def _call_asgi(app: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """One POST through an ASGI app, in process."""
    messages: list[dict[str, Any]] = []
    request = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return request.pop() if request else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/cloudevents+json")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }
    asyncio.run(app(scope, receive, send))
    start = messages[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    payload = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], headers, payload


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_router_configs_pick_a_working_adapter(name: str) -> None:
    served = Served()
    path = CONFIGS / name
    config = load_router_config(path)
    assert config.event_processor.type == PLAIN[name]
    cloudevent = json.loads(_structured_body())

    adapter = from_router_config(served.router, path)

    if PLAIN[name] == "knative":
        assert isinstance(adapter, knative.ASGIApp)
        assert config.event_processor.knative is not None
        assert adapter.reply_mode == config.event_processor.knative.encoding
        status, headers, _ = _call_asgi(adapter, _structured_body())
        assert status == 200
        assert headers["ce-type"] == "com.example.vm.off.handled"  # binary-mode reply
    elif PLAIN[name] == "openfaas":
        request = SimpleNamespace(
            body=_structured_body(),
            headers={"Content-Type": "application/json"},  # VEBA's OpenFaaS processor
            method="POST",
            path="/",
            query={},
        )
        handle = cast("PythonHttpHandle", adapter)  # what the openfaas processor gets
        response = handle(request, SimpleNamespace(hostname="fn-0"))
        assert response["statusCode"] == 200
        assert json.loads(response["body"])["data"] == {"vm": "test-01"}
    else:
        event = {
            "version": "0",
            "id": "b1f0e2c4-4f43-4b1a-9f34-2f6d6f6c1a10",
            "detail-type": cloudevent["subject"],
            "source": cloudevent["source"],
            "time": "2020-02-11T21:29:55Z",
            "detail": cloudevent,
        }
        lambda_handler = cast("LambdaHandler", adapter)  # what aws_event_bridge gets
        assert lambda_handler.__name__ == "lambda_handler"
        assert lambda_handler(event, None) is None  # no broker to reply to: the reply is dropped
    assert served.seen == [cloudevent["id"]]


@pytest.mark.parametrize("name", OTHERS)
def test_templates_schemas_and_charts_are_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        from_router_config(Router(), CONFIGS / name)


def test_structured_encoding_makes_structured_replies() -> None:
    text = (CONFIGS / "dev__event-router-config-vcenter-knative.yaml").read_text()
    assert "encoding: binary" in text
    served = Served()
    app = from_router_config(
        served.router, text.replace("encoding: binary", "encoding: structured")
    )
    assert isinstance(app, knative.ASGIApp)
    assert app.reply_mode == "structured"
    status, headers, body = _call_asgi(app, _structured_body())
    assert status == 200
    assert headers["content-type"].startswith("application/cloudevents+json")
    assert json.loads(body)["type"] == "com.example.vm.off.handled"


def test_a_loaded_config_or_a_mapping_is_accepted() -> None:
    config = load_router_config(CONFIGS / "v0.6.0__event-router-config-openfaas.yaml")
    handle = from_router_config(Router(), config)
    assert not isinstance(handle, knative.ASGIApp)
    assert handle.__name__ == "handle"
    document = json.loads(json.dumps(_as_mapping(CONFIGS / "v0.6.0__event-router-config-aws.yaml")))
    lambda_handler = from_router_config(Router(), document)
    assert not isinstance(lambda_handler, knative.ASGIApp)
    assert lambda_handler.__name__ == "lambda_handler"


def _as_mapping(path: Path) -> Any:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(path.read_text())


def test_only_the_chosen_platform_is_imported() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from veba_sdk import Router\n"
        "from veba_sdk.adapters import from_router_config\n"
        f"from_router_config(Router(), {str(CONFIGS / 'v0.6.0__event-router-config-aws.yaml')!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith('veba_sdk.adapters.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "['veba_sdk.adapters.aws_lambda']"
