"""The function's own test: events as VEBA's EventBridge processor delivers them.

``client(lambda_handler, platform="lambda")`` invokes ``main.lambda_handler`` with EventBridge
events; its answers follow the HTTP status policy (a rejected event is 400, a failed one 500).
"""

from __future__ import annotations

import pytest
from main import lambda_handler

from veba_sdk import InvalidEvent
from veba_sdk.testing import FunctionClient, client


@pytest.fixture(scope="module")
def function() -> FunctionClient:
    return client(lambda_handler, platform="lambda")


def test_maintenance_event(function: FunctionClient) -> None:
    response = function.send("EnteredMaintenanceModeEvent", host__name="esx01")
    assert response.status == 200
    assert response.raw == {"event": "EnteredMaintenanceModeEvent", "host": "esx01"}


def test_other_events_are_acknowledged(function: FunctionClient) -> None:
    response = function.send("VmPoweredOnEvent")
    assert response.status == 204
    assert response.raw is None


def test_garbage_is_rejected(function: FunctionClient) -> None:
    """The invocation raises InvalidEvent, so the platform's dead-letter queue keeps it."""
    response = function.post({"detail-type": "nonsense", "detail": "x"})
    assert response.status == 400
    assert isinstance(response.error, InvalidEvent)
