"""The function's own test: CloudEvents through functions-framework's own app."""

from __future__ import annotations

from pathlib import Path

import functions_framework
import pytest

from veba_sdk.testing import make_event, to_cloudevent

MAIN = str(Path(__file__).with_name("main.py"))


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    return functions_framework.create_app("function", MAIN, "cloudevent").test_client()


@pytest.mark.parametrize(
    ("producer", "mode"),
    [("router", "binary"), ("vsphere-source", "binary"), ("router", "structured")],
)
def test_maintenance_event(client, producer: str, mode: str) -> None:  # type: ignore[no-untyped-def]
    headers, body = to_cloudevent(make_event("EnteredMaintenanceModeEvent"), producer, mode)
    assert client.post("/", headers=headers, data=body).status_code == 200


def test_not_a_vcenter_event_is_rejected(client) -> None:  # type: ignore[no-untyped-def]
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/x",
        "ce-type": "other",
        "content-type": "application/json",
    }
    assert client.post("/", headers=headers, data=b"{}").status_code == 400
