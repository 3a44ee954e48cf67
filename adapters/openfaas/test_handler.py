"""The function's own test: events as VEBA's OpenFaaS processor posts them.

``client(handle, platform="openfaas")`` calls ``handler.handle`` as the python3-http
template's ``index.py`` does.
"""

from __future__ import annotations

import pytest
from handler import handle

from veba_sdk.testing import FunctionClient, client


@pytest.fixture(scope="module")
def function() -> FunctionClient:
    return client(handle, platform="openfaas")


def test_maintenance_event(function: FunctionClient) -> None:
    response = function.send("ExitMaintenanceModeEvent", host__name="esx01")
    assert response.status == 200
    assert response.json() == {"event": "ExitMaintenanceModeEvent", "host": "esx01"}


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/json"]
)
def test_curl_and_faas_cli_content_types(function: FunctionClient, content_type: str) -> None:
    """``curl -d @event.json`` and ``faas-cli invoke`` label the same JSON body differently."""
    from veba_sdk.testing import make_event, to_openfaas

    body = to_openfaas(make_event("EnteredMaintenanceModeEvent", host__name="esx01"))["body"]
    response = function.post(body, headers={"Content-Type": content_type})
    assert response.status == 200
    assert response.json()["host"] == "esx01"


def test_other_events_are_acknowledged(function: FunctionClient) -> None:
    assert function.send("VmPoweredOnEvent").status == 204


def test_garbage_is_rejected_not_retried(function: FunctionClient) -> None:
    response = function.post(b"[]")
    assert response.status == 400
    assert response.text == "a structured CloudEvent must be a JSON object\n"
