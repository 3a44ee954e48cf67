"""The function's own test: CloudEvents through functions-framework's own app.

``client(platform="gcf", source=MAIN)`` serves ``main.py`` exactly as ``functions-framework
--source main.py --target function`` does, with the framework's test client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from veba_sdk.testing import FunctionClient, client

MAIN = Path(__file__).with_name("main.py")


@pytest.fixture(scope="module")
def function() -> Iterator[FunctionClient]:
    with client(platform="gcf", source=MAIN, target="function") as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("producer", "mode"),
    [("router", "binary"), ("vsphere-source", "binary"), ("router", "structured")],
)
def test_maintenance_event(function: FunctionClient, producer: str, mode: str) -> None:
    response = function.send("EnteredMaintenanceModeEvent", producer=producer, mode=mode)
    assert response.status == 200


def test_a_malformed_vcenter_event_is_rejected(function: FunctionClient) -> None:
    # An event router event without the subject that names it. (A CloudEvent of any other
    # type is no error: @router.on_type routes it.)
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/x",
        "ce-type": "com.vmware.event.router/event",
        "content-type": "application/json",
    }
    response = function.post(b"{}", headers=headers)
    assert response.status == 400
