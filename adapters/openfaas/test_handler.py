"""The function's own test: events as VEBA's OpenFaaS processor posts them."""

from __future__ import annotations

import json
from types import SimpleNamespace

from handler import handle

from veba_sdk.testing import make_event, to_openfaas


def test_maintenance_event() -> None:
    event = make_event("ExitMaintenanceModeEvent", host__name="esx01")
    response = handle(SimpleNamespace(**to_openfaas(event)), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"event": "ExitMaintenanceModeEvent", "host": "esx01"}


def test_other_events_are_acknowledged() -> None:
    response = handle(SimpleNamespace(**to_openfaas(make_event("VmPoweredOnEvent"))), None)
    assert response["statusCode"] == 204


def test_garbage_is_rejected_not_retried() -> None:
    request = SimpleNamespace(body=b"[]", headers={}, method="POST", query={}, path="/")
    assert handle(request, None)["statusCode"] == 400
