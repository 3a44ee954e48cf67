"""The function's own test: events as VEBA's EventBridge processor delivers them."""

from __future__ import annotations

import pytest
from main import lambda_handler

from veba_sdk import InvalidEvent
from veba_sdk.testing import make_event, to_eventbridge


def test_maintenance_event() -> None:
    event = make_event("EnteredMaintenanceModeEvent", host__name="esx01")
    assert lambda_handler(to_eventbridge(event), None) == {
        "event": "EnteredMaintenanceModeEvent",
        "host": "esx01",
    }


def test_other_events_are_acknowledged() -> None:
    assert lambda_handler(to_eventbridge(make_event("VmPoweredOnEvent")), None) is None


def test_garbage_is_rejected() -> None:
    with pytest.raises(InvalidEvent):
        lambda_handler({"detail-type": "nonsense", "detail": "x"}, None)
