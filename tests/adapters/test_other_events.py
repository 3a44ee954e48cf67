"""Events that are not vCenter's, on every platform: a webhook CloudEvent reaches a type route,
Horizon events from both producers reach Horizon routes, and a body that is no CloudEvent is
still a 400."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from payloads import load_payload

from veba_sdk import Router
from veba_sdk.testing import Platform, client

PLATFORMS: list[Platform] = ["knative", "openfaas", "lambda", "gcf"]
HORIZON = load_payload("Horizon_VLSI_USERLOGIN_REST_FAILED")
WEBHOOK_DATA = {"pipeline": "nightly", "status": "failed", "url": "https://ci.example.com/7"}


def build_router(seen: list[dict[str, Any]]) -> Router:
    """Handlers that record what they got and answer it (functions-framework answers no
    handler's value: the record is what the gcf tests read)."""
    router = Router()

    @router.on_type("com.example.ci.*")
    def ci(event: Any, ctx: Any) -> dict[str, Any]:
        seen.append({"route": "ci", "type": ctx.type, "category": ctx.category, "data": event})
        return seen[-1]

    @router.on("horizon.VLSI_USERLOGIN_REST_FAILED")
    def login_failed(event: Any, ctx: Any) -> dict[str, Any]:
        seen.append(
            {
                "route": "horizon",
                "name": ctx.name,
                "producer": ctx.producer,
                "class": type(event).__name__,
                "severity": event.severity,
                "id": event.id,
            }
        )
        return seen[-1]

    @router.on("*")
    def every_vcenter_event(event: Any) -> dict[str, Any]:
        seen.append({"route": "vcenter"})
        return seen[-1]

    return router


def attributes(ce_type: str, **more: str) -> dict[str, str]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "https://veba.example.com/webhook",
        "type": ce_type,
        **more,
    }


def deliver(function: Any, platform: str, attrs: dict[str, str], data: Any) -> Any:
    """The CloudEvent as each platform receives it from VEBA: binary HTTP (Knative,
    functions-framework), the structured JSON body (OpenFaaS processor), an EventBridge event
    around the structured CloudEvent (EventBridge processor)."""
    structured = {**attrs, "datacontenttype": "application/json", "data": data}
    if platform in ("knative", "gcf"):
        headers = {f"ce-{key}": value for key, value in attrs.items()}
        headers["content-type"] = "application/json"
        return function.post(json.dumps(data).encode(), headers=headers)
    if platform == "openfaas":
        return function.post(structured, headers={"content-type": "application/json"})
    bridge = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": attrs.get("subject", attrs["type"]),
        "source": attrs["source"],
        "account": "123456789012",
        "time": "2026-12-05T10:00:00Z",
        "region": "us-west-1",
        "resources": [],
        "detail": structured,
    }
    return function.post(bridge)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_webhook_cloudevent_reaches_the_type_route(platform: Platform) -> None:
    seen: list[dict[str, Any]] = []
    if platform == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    with client(build_router(seen), platform=platform) as function:
        response = deliver(function, platform, attributes("com.example.ci.failed"), WEBHOOK_DATA)
        assert response.status == 200, response.body
        expected = {
            "route": "ci",
            "type": "com.example.ci.failed",
            "category": "cloudevent",
            "data": WEBHOOK_DATA,
        }
        assert seen == [expected]
        if platform != "gcf":
            assert response.json() == expected
        # Another type: a valid CloudEvent no route selects is acknowledged, as any is.
        response = deliver(function, platform, attributes("org.example.other"), {"a": 1})
        assert 200 <= response.status < 300, response.body
        assert seen == [expected]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(
    ("ce_type", "producer"),
    [
        ("com.vmware.event.router/horizon.vlsi_userlogin_rest_failed.v0", "router"),
        ("com.vmware.horizon.vlsi_userlogin_rest_failed.v0", "horizon-source"),
    ],
)
def test_horizon_events_reach_the_horizon_route(
    platform: Platform, ce_type: str, producer: str
) -> None:
    seen: list[dict[str, Any]] = []
    if platform == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    with client(build_router(seen), platform=platform) as function:
        attrs = attributes(ce_type)
        attrs["id"] = str(HORIZON["id"])
        response = deliver(function, platform, attrs, HORIZON)
        assert response.status == 200, response.body
        assert seen == [
            {
                "route": "horizon",
                "name": "horizon.VLSI_USERLOGIN_REST_FAILED",
                "producer": producer,
                "class": "HorizonEvent",
                "severity": "AUDIT_FAIL",
                "id": 166419,
            }
        ]
        if platform != "gcf":
            assert response.json() == seen[0]


@pytest.mark.parametrize("platform", ["knative", "openfaas", "gcf"])
def test_a_body_that_is_no_cloudevent_is_still_a_400(platform: Platform) -> None:
    seen: list[dict[str, Any]] = []
    if platform == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    with client(build_router(seen), platform=platform) as function:
        # JSON, but no CloudEvent: no specversion, no ce- headers.
        response = function.post(
            b'{"pipeline": "nightly"}', headers={"content-type": "application/json"}
        )
        assert response.status == 400, response.body
        response = function.post(b"{", headers={"content-type": "application/json"})
        assert response.status == 400
    assert seen == []


def test_lambda_refuses_what_is_no_cloudevent() -> None:
    with client(build_router([]), platform="lambda") as function:
        response = function.post({"pipeline": "nightly"})
        assert response.status == 400


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_test_client_sends_made_horizon_events(platform: Platform) -> None:
    seen: list[dict[str, Any]] = []
    if platform == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    with client(build_router(seen), platform=platform) as function:
        response = function.send(
            "horizon.vlsi_userlogin_rest_failed", severity="AUDIT_FAIL", id=31337
        )
        assert response.status == 200, response.body
        # The event router's shape by default, as for vCenter events (the only one VEBA's
        # OpenFaaS and EventBridge processors send).
        assert seen == [
            {
                "route": "horizon",
                "name": "horizon.VLSI_USERLOGIN_REST_FAILED",
                "producer": "router",
                "class": "HorizonEvent",
                "severity": "AUDIT_FAIL",
                "id": 31337,
            }
        ]
        if platform in ("knative", "gcf"):
            seen.clear()
            function.send("horizon.VLSI_USERLOGIN_REST_FAILED", producer="horizon-source")
            assert seen[0]["producer"] == "horizon-source"
