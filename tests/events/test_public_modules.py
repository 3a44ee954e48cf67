"""The events package's public modules, its one JSON backend picker, and its use of veba_sdk.wire.

Other packages import ``veba_sdk.events``, ``events.http``, ``events.type_ids``,
``events.horizon`` and ``events.catalogue``, never a private module; the wire facts the package
re-exports are :mod:`veba_sdk.wire`'s own objects.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from veba_sdk import InvalidEvent, wire
from veba_sdk.events import (
    EVENT_CLASSES,
    _codec,
    _envelope,
    _models,
    catalogue,
    horizon,
    http,
    parse_event,
    to_dict,
    type_ids,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "veba-events"
MAINTENANCE = FIXTURES / "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"
PUBLIC = ["veba_sdk.events", "veba_sdk.events.http", "veba_sdk.events.type_ids",
          "veba_sdk.events.horizon", "veba_sdk.events.catalogue"]  # fmt: skip


@pytest.mark.parametrize("name", PUBLIC)
def test_public_modules_document_and_export_what_they_name(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    assert module.__doc__.strip()
    missing = [n for n in module.__all__ if getattr(module, n, None) is None]
    assert missing == []


def test_what_other_packages_import_is_public() -> None:
    assert http.structured_parts is not None
    for name in ("decode_http", "decode_http_batch", "decode_http_read", "read_asgi_headers",
                 "loads_json", "structured_parts", "BatchTooLarge", "Headers"):  # fmt: skip
        assert name in http.__all__
    for name in ("TypeIdInfo", "matching", "releases_text", "release_titles", "type_id_info",
                 "suggest_type_id", "suggest_type_id_glob", "is_type_id",
                 "check_type_id_route"):  # fmt: skip
        assert name in type_ids.__all__
    assert catalogue.all_fields("HostEvent") == _models.all_fields("HostEvent")
    assert "HostEvent" in catalogue.EVENTS
    assert "HostEventArgument" in catalogue.ARGUMENTS
    assert horizon.HorizonEvent(type="X").name == "horizon.X"


def test_wire_facts_are_the_wire_objects() -> None:
    assert http.DEFAULT_MAX_BODY is wire.DEFAULT_MAX_BODY
    assert http.DEFAULT_MAX_BATCH is wire.DEFAULT_MAX_BATCH
    for name in ("CATEGORIES", "OTHER_CATEGORIES", "PRODUCERS", "SPEC_VERSIONS", "MAX_NAME"):
        assert getattr(_envelope, name) is getattr(wire, name)
    assert horizon.HORIZON_PREFIX is wire.HORIZON_NAME_PREFIX
    assert horizon.HORIZON_ROUTER_PREFIX is wire.HORIZON_ROUTER_PREFIX
    assert horizon.HORIZON_SOURCE_PREFIX is wire.HORIZON_SOURCE_PREFIX


def test_structured_parts_reads_one_structured_event() -> None:
    data = json.loads(MAINTENANCE.read_bytes())
    obj = {"specversion": "1.0", "id": "1", "source": "https://vc/sdk",
           "type": wire.vsphere_type("EnteredMaintenanceModeEvent"), "data": data}  # fmt: skip
    attributes, got, content_type = http.structured_parts(obj)
    assert attributes["id"] == "1"
    assert got == data
    assert content_type is None
    with pytest.raises(InvalidEvent, match="JSON object"):
        http.structured_parts([obj])


@pytest.fixture
def forget_json_choice() -> Any:
    yield
    _codec.select_json(None)


@pytest.mark.parametrize("library", ["json", "orjson"])
def test_one_json_backend_serves_parse_event_and_loads_json(
    library: str, forget_json_choice: Any
) -> None:
    pytest.importorskip(library)
    _codec.select_json(library)
    decoder = _codec.decoder()
    assert decoder.__module__.split(".")[0] == library
    body = MAINTENANCE.read_bytes()
    assert http.loads_json(body) == json.loads(body)
    assert parse_event(body, name="EnteredMaintenanceModeEvent") == parse_event(
        json.loads(body), name="EnteredMaintenanceModeEvent"
    )
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        http.loads_json(b"{nope")
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        parse_event(b"{nope", name="EnteredMaintenanceModeEvent")


def test_forgetting_the_choice_chooses_again(forget_json_choice: Any) -> None:
    _codec.select_json("json")
    _codec.select_json(None)
    assert _codec._loads is None
    assert _codec._object_loads is None
    assert http.loads_json(b'{"a": 1}') == {"a": 1}
    assert _codec._loads is not None


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2022, 4, 20, 15, 47, 32, 365000, tzinfo=UTC), "2022-04-20T15:47:32.365Z"),
        (datetime(2022, 4, 20, 15, 47, 32), "2022-04-20T15:47:32Z"),  # naive is UTC
        (datetime(2022, 4, 20, 17, 47, 32, 100, tzinfo=timezone(timedelta(hours=2))),
         "2022-04-20T15:47:32.0001Z"),
    ],
)  # fmt: skip
def test_to_dict_writes_times_as_the_wire_does(moment: datetime, text: str) -> None:
    event = EVENT_CLASSES["VmPoweredOnEvent"](key=1, created_time=moment)
    assert to_dict(event)["CreatedTime"] == text == wire.format_time(moment)
    assert to_dict(event, style="camel")["createdTime"] == text
