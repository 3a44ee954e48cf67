"""The function's own test: events as the event router and the VSphereSource send them.

``client(app, platform="knative")`` serves ``main.app`` (the entry the image runs) in-process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from main import app

from veba_sdk.testing import FunctionClient, client


@pytest.fixture(scope="module")
def function() -> Iterator[FunctionClient]:
    with client(app, platform="knative") as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("producer", "mode", "encoding"),
    [
        ("router", "binary", "json"),
        ("router", "structured", "json"),
        ("vsphere-source", "binary", "json"),
        ("vsphere-source", "binary", "xml"),
    ],
)
def test_maintenance_event(
    function: FunctionClient, producer: str, mode: str, encoding: str
) -> None:
    response = function.send(
        "EnteredMaintenanceModeEvent",
        producer=producer,
        mode=mode,
        encoding=encoding,
        host__name="esx01",
    )
    assert response.status == 200
    assert response.json() == {"event": "EnteredMaintenanceModeEvent", "host": "esx01"}


def test_other_events_are_acknowledged(function: FunctionClient) -> None:
    assert function.send("VmPoweredOnEvent").status == 204


def test_garbage_is_rejected_not_retried(function: FunctionClient) -> None:
    response = function.post(b"{not json", headers={"content-type": "application/json"})
    assert response.status == 400
    assert response.text.startswith("body is not valid JSON")
