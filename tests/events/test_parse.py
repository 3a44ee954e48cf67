"""parse_event and to_dict on hand-written payloads: forms, tolerance, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from veba_sdk._errors import InvalidEvent
from veba_sdk.events import (
    EventEx,
    ManagedObjectReference,
    parse_event,
    to_dict,
)
from veba_sdk.events import HostEvent as HostEventClass

PASCAL: dict[str, Any] = {
    "Key": 910093,
    "ChainId": 910066,
    "CreatedTime": "2022-04-20T15:47:32.365Z",
    "UserName": "VSPHERE.LOCAL\\Administrator",
    "Datacenter": {"Name": "HomeLab", "Datacenter": {"Type": "Datacenter", "Value": "dc-47"}},
    "ComputeResource": None,
    "Host": {"Name": "esx02", "Host": {"Type": "HostSystem", "Value": "host-19"}},
    "Vm": None,
    "Ds": {"Name": "ds1", "Datastore": {"Type": "Datastore", "Value": "datastore-60"}},
    "Net": None,
    "Dvs": None,
    "FullFormattedMessage": "Host esx02 in HomeLab has entered maintenance mode",
    "ChangeTag": "",
}

CAMEL: dict[str, Any] = {
    "key": 910093,
    "chainId": 910066,
    "createdTime": "2022-04-20T15:47:32.365Z",
    "userName": "VSPHERE.LOCAL\\Administrator",
    "datacenter": {"name": "HomeLab", "datacenter": {"type": "Datacenter", "value": "dc-47"}},
    "host": {"name": "esx02", "host": {"type": "HostSystem", "value": "host-19"}},
    "ds": {"name": "ds1", "datastore": {"type": "Datastore", "value": "datastore-60"}},
    "fullFormattedMessage": "Host esx02 in HomeLab has entered maintenance mode",
}


def test_pascal_bytes_to_typed_event() -> None:
    ev = parse_event(json.dumps(PASCAL).encode(), name="EnteredMaintenanceModeEvent")
    assert type(ev).__name__ == "EnteredMaintenanceModeEvent"
    assert isinstance(ev, HostEventClass)
    assert ev.key == 910093
    assert ev.chain_id == 910066
    assert ev.created_time == datetime(2022, 4, 20, 15, 47, 32, 365000, tzinfo=UTC)
    assert ev.host is not None
    assert ev.host.name == "esx02"
    assert ev.host.host == ManagedObjectReference("HostSystem", "host-19")
    assert ev.ds is not None
    assert ev.ds.datastore == ManagedObjectReference("Datastore", "datastore-60")
    assert ev.change_tag == ""
    assert ev.extra == {}
    assert ev.class_name == "EnteredMaintenanceModeEvent"


def test_camel_and_pascal_give_equal_events() -> None:
    a = parse_event(PASCAL, name="EnteredMaintenanceModeEvent")
    b = parse_event(json.dumps(CAMEL), name="EnteredMaintenanceModeEvent")
    assert a.host == b.host
    assert a.created_time == b.created_time
    assert (a.key, a.chain_id, a.user_name) == (b.key, b.chain_id, b.user_name)
    assert b.change_tag is None  # omitted in camel form


def test_typename_chooses_the_class() -> None:
    ev = parse_event({"_typeName": "VmPoweredOnEvent", **CAMEL})
    assert type(ev).__name__ == "VmPoweredOnEvent"
    assert ev.extra == {}


def test_pascal_round_trip() -> None:
    ev = parse_event(PASCAL, name="EnteredMaintenanceModeEvent")
    assert to_dict(ev) == PASCAL
    camel = to_dict(ev, style="camel")
    assert camel["host"] == CAMEL["host"]
    assert "vm" not in camel
    assert parse_event(camel, name="EnteredMaintenanceModeEvent") == parse_event(
        {k: v for k, v in PASCAL.items() if k != "ChangeTag"}, name="EnteredMaintenanceModeEvent"
    )


def test_unknown_fields_and_odd_values_are_kept_in_extra() -> None:
    payload = {**PASCAL, "Brand": "new", "Key": "not-a-number", "Host": "esx02"}
    ev = parse_event(payload, name="EnteredMaintenanceModeEvent")
    assert ev.key is None
    assert ev.host is None
    assert ev.extra == {"Brand": "new", "Key": "not-a-number", "Host": "esx02"}
    assert to_dict(ev) == payload


def test_unknown_names_fall_back_to_the_nearest_base() -> None:
    ev = parse_event({"EventTypeId": "com.vmware.x", "Key": 1}, name="com.vmware.x")
    assert isinstance(ev, EventEx)
    assert ev.event_type_id == "com.vmware.x"
    assert ev.class_name == "com.vmware.x"
    ext = parse_event({"Key": 1}, name="Something", category="extendedevent")
    assert type(ext).__name__ == "ExtendedEvent"
    plain = parse_event({"Key": 1}, name="NoSuchEvent")
    assert type(plain).__name__ == "Event"
    assert plain.class_name == "NoSuchEvent"


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"{", "JSON"),
        (b"[1, 2]", "object"),
        (b'"text"', "object"),
        (b"null", "object"),
        (b"\xff\xfe{}", ""),
        (b"[" * 100_000 + b"]" * 100_000, ""),
        (b" ", "empty"),
    ],
)
def test_bad_payloads_raise_invalid_event(payload: bytes, needle: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(payload)
    assert needle in str(info.value)
    assert info.value.field == "data"
    assert "\n" not in str(info.value)


def test_oversized_payload() -> None:
    with pytest.raises(InvalidEvent, match="larger than 10 bytes"):
        parse_event(b'{"Key": 1234567}', max_size=10)


XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def test_xml_with_class_in_xsi_type() -> None:
    body = f"""<?xml version="1.0"?>
    <event {XSI} xsi:type="EnteredMaintenanceModeEvent">
      <key>910093</key><chainId>910066</chainId>
      <createdTime>2022-04-20T15:47:32.365123456Z</createdTime>
      <userName>VSPHERE.LOCAL\\Administrator</userName>
      <host><name>esx02</name><host type="HostSystem">host-19</host></host>
      <fullFormattedMessage>Host esx02 entered maintenance mode</fullFormattedMessage>
      <brandNew>kept</brandNew>
    </event>""".encode()
    ev = parse_event(body, content_type="application/xml")
    assert type(ev).__name__ == "EnteredMaintenanceModeEvent"
    assert ev.key == 910093
    assert ev.created_time == datetime(2022, 4, 20, 15, 47, 32, 365123, tzinfo=UTC)
    assert ev.host is not None
    assert ev.host.host == ManagedObjectReference("HostSystem", "host-19")
    assert ev.extra == {"brandNew": "kept"}


def test_xml_eventex_arguments_are_a_list() -> None:
    body = f"""<EventEx {XSI}><key>1</key><eventTypeId>com.vmware.cis.tagging.attach</eventTypeId>
      <arguments><key>Tag</key><value xsi:type="xsd:string">example-tag</value></arguments>
      </EventEx>"""
    ev = parse_event(body, content_type="text/xml")
    assert isinstance(ev, EventEx)
    assert ev.arguments is not None
    assert [(a.key, a.value) for a in ev.arguments] == [("Tag", "example-tag")]


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<Event><userName>&lol2;</userName></Event>",
        '<!DOCTYPE x SYSTEM "file:///etc/passwd"><Event><key>1</key></Event>',
        "<Event><key>1</key>",
        "<Event>" * 10_000 + "</Event>" * 10_000,
        "<a:Event><key>1</key></a:Event>",
    ],
)
def test_hostile_or_broken_xml_is_rejected(body: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(body.encode(), content_type="application/xml")
    assert "\n" not in str(info.value)


def test_times_offsets_and_odd_values() -> None:
    ev = parse_event(
        {"CreatedTime": "2022-04-20T17:47:32.1+02:00", "ChainId": 1.0, "Key": True}, name="Event"
    )
    assert ev.created_time == datetime(2022, 4, 20, 15, 47, 32, 100000, tzinfo=UTC)
    assert ev.chain_id == 1
    assert ev.key is None
    assert ev.extra == {"Key": True}
    bad_time = parse_event({"CreatedTime": "yesterday"}, name="Event")
    assert bad_time.created_time is None
    assert bad_time.extra == {"CreatedTime": "yesterday"}


def test_govmomi_typed_values_are_unwrapped() -> None:
    ev = parse_event(
        {
            "_typeName": "EventEx",
            "key": 3,
            "eventTypeId": "esx.problem.x",
            "arguments": [
                {
                    "_typeName": "KeyAnyValue",
                    "key": "k",
                    "value": {"_typeName": "string", "_value": "v"},
                }
            ],
        }
    )
    assert isinstance(ev, EventEx)
    assert ev.arguments is not None
    assert ev.arguments[0].value == "v"
