"""Every captured VEBA payload decodes to the right class with the right values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from payloads import VEBA_EVENTS, load_event, unwrap

from veba_sdk._errors import InvalidEvent
from veba_sdk.events import (
    AlarmStatusChangedEvent,
    Event,
    EventEx,
    ManagedObjectReference,
    TaskEvent,
    VmReconfiguredEvent,
    parse_event,
    to_dict,
)


def data_of(name: str) -> tuple[Any, str | None]:
    """The vCenter payload of a fixture and the class name its CloudEvent carries."""
    raw = unwrap(load_event(name))
    if isinstance(raw, dict) and "specversion" in raw:
        ce_type = raw["type"]
        if ce_type.startswith("com.vmware.vsphere."):
            return raw["data"], ce_type[len("com.vmware.vsphere.") : -len(".v0")]
        return raw["data"], raw.get("subject")
    return raw, None


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


VCENTER_FIXTURES = sorted(
    p.name for p in VEBA_EVENTS.glob("*.json") if not p.name.startswith("Horizon_")
)


@pytest.mark.parametrize("fixture", VCENTER_FIXTURES)
def test_every_vcenter_fixture_round_trips(fixture: str) -> None:
    data, _ = data_of(fixture)
    name = fixture.split("__")[0].split("_")[0]
    ev = parse_event(json.dumps(data).encode(), name=name)
    assert type(ev).__name__ == name
    assert ev.extra == {}
    out = to_dict(ev)
    # Every key the producer sent comes back with its value (one hand-written EventEx sample
    # leaves out three optional keys, which to_dict writes as null).
    assert {k: out[k] for k in data} == data
    assert parse_event(out, name=name) == ev
    camel = to_dict(ev, style="camel")
    again = parse_event(camel, name=name)
    assert to_dict(again, style="camel") == camel
    assert (again.key, again.created_time, again.host) == (ev.key, ev.created_time, ev.host)


def test_entered_maintenance_mode() -> None:
    ev = parse_event(
        (
            VEBA_EVENTS / "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"
        ).read_bytes(),
        name="EnteredMaintenanceModeEvent",
    )
    assert ev.key == 910093
    assert ev.chain_id == 910066
    assert ev.created_time == utc(2022, 4, 20, 15, 47, 32, 365000)
    assert ev.user_name == "VSPHERE.LOCAL\\Administrator"
    assert ev.host is not None
    assert ev.host.name == "esx02.cl.vmweventbroker.io"
    assert ev.host.host == ManagedObjectReference("HostSystem", "REPLACE-ME")
    assert ev.datacenter is not None
    assert ev.datacenter.datacenter == ManagedObjectReference("Datacenter", "datacenter-47")
    assert ev.compute_resource is not None
    assert ev.compute_resource.compute_resource is not None
    assert ev.compute_resource.compute_resource.value == "domain-c52"
    assert ev.vm is None
    assert ev.change_tag == ""


def test_exit_maintenance_mode() -> None:
    data, _ = data_of("ExitMaintenanceModeEvent")
    ev = parse_event(data, name="ExitMaintenanceModeEvent")
    assert ev.key == 910100
    assert ev.created_time == utc(2022, 4, 20, 15, 48, 39, 140999)
    assert ev.full_formatted_message is not None
    assert ev.full_formatted_message.endswith("has exited maintenance mode")


@pytest.mark.parametrize(
    ("fixture", "key", "host", "source_value", "old", "new", "created"),
    [
        (
            "AlarmStatusChangedEvent__data-only",
            952175,
            None,
            "group-d1",
            "gray",
            "yellow",
            utc(2022, 4, 27, 14, 14, 13, 89999),
        ),
        (
            "AlarmStatusChangedEvent__v0.7-router",
            15158,
            "host-27",
            "domain-c7",
            "green",
            "red",
            utc(2021, 11, 5, 13, 2, 32, 966000),
        ),
    ],
)
def test_alarm_status_changed(
    fixture: str,
    key: int,
    host: str | None,
    source_value: str,
    old: str,
    new: str,
    created: datetime,
) -> None:
    data, subject = data_of(fixture)
    ev = parse_event(data, name=subject or "AlarmStatusChangedEvent")
    assert type(ev).__name__ == "AlarmStatusChangedEvent"
    assert isinstance(ev, AlarmStatusChangedEvent)
    assert ev.key == key
    assert ev.created_time == created
    assert (ev.from_, ev.to) == (old, new)
    assert ev.alarm is not None
    assert ev.alarm.alarm is not None
    assert ev.alarm.alarm.type == "Alarm"
    assert ev.source is not None
    assert ev.source.entity is not None
    assert ev.source.entity.value == source_value
    assert (ev.host.host.value if ev.host and ev.host.host else None) == host
    if subject is None:
        assert ev.ds is not None
        assert ev.ds.datastore == ManagedObjectReference("Datastore", "datastore-60")


@pytest.mark.parametrize(
    "fixture",
    [
        "DrsVmPoweredOnEvent__v0.7-router__structured-ce",
        "DrsVmPoweredOnEvent__v0.8-vspheresource__structured-ce",
        "DrsVmPoweredOnEvent__v0.8-vspheresource__data-only",
    ],
)
def test_drs_vm_powered_on(fixture: str) -> None:
    from veba_sdk.events import VmPoweredOnEvent

    data, name = data_of(fixture)
    ev = parse_event(data, name=name or "DrsVmPoweredOnEvent")
    assert type(ev).__name__ == "DrsVmPoweredOnEvent"
    assert isinstance(ev, VmPoweredOnEvent)
    assert ev.template is False
    assert ev.vm is not None
    assert ev.vm.vm is not None
    if "data-only" in fixture:
        assert (ev.key, ev.vm.name, ev.vm.vm.value) == (16957152, "vm1", "vm-81")
        assert ev.host is not None
        assert ev.host.name == "esx01.mydomain.com"
        assert ev.created_time == utc(2023, 11, 27, 10, 0, 8, 715999)
    else:
        assert (ev.key, ev.chain_id, ev.vm.name, ev.vm.vm.value) == (
            992270,
            992267,
            "TestVM",
            "vm-596",
        )
        assert ev.host is not None
        assert ev.host.host == ManagedObjectReference("HostSystem", "host-34")
        assert ev.created_time == utc(2021, 5, 4, 7, 33, 32, 759000)


@pytest.mark.parametrize(
    ("fixture", "key", "vm", "created"),
    [
        ("VmPoweredOffEvent__v0.5-v0.7-router", 7825, "vm-33", utc(2020, 4, 14, 0, 33, 30, 252792)),
        ("VmPoweredOffEvent__v0.7-router", 9902, "vm-56", utc(2020, 2, 11, 21, 28, 23, 677595)),
        (
            "VmPoweredOffEvent__v0.8-vspheresource",
            9902,
            "vm-56",
            utc(2020, 2, 11, 21, 28, 23, 677595),
        ),
        ("VmPoweredOnEvent__v0.5-v0.7-router", 7441, "vm-33", utc(2020, 4, 13, 23, 46, 9, 387283)),
        ("VmRemovedEvent", 2040013, "vm-10838", utc(2021, 4, 23, 20, 21, 2, 277000)),
    ],
)
def test_vm_events(fixture: str, key: int, vm: str, created: datetime) -> None:
    data, name = data_of(fixture)
    expected = fixture.split("__")[0]
    ev = parse_event(data, name=name or expected)
    assert type(ev).__name__ == expected
    assert ev.key == key
    assert ev.created_time == created
    assert ev.vm is not None
    assert ev.vm.vm == ManagedObjectReference("VirtualMachine", vm)


def test_vm_reconfigured_keeps_config_spec_as_a_mapping() -> None:
    data, _ = data_of("VmReconfiguredEvent")
    ev = parse_event(data, name="VmReconfiguredEvent")
    assert isinstance(ev, VmReconfiguredEvent)
    assert ev.key == 689459
    assert isinstance(ev.config_spec, dict)
    change = ev.config_spec["DeviceChange"][0]
    assert change["Operation"] == "edit"
    assert change["Device"]["Key"] == 4000
    assert ev.host is not None
    assert ev.host.host == ManagedObjectReference("HostSystem", "host-58")


def test_task_event_keeps_task_info_as_a_mapping() -> None:
    data, _ = data_of("TaskEvent_VirtualMachine.createSnapshot")
    ev = parse_event(data, name="TaskEvent")
    assert isinstance(ev, TaskEvent)
    assert ev.key == 4671568
    assert isinstance(ev.info, dict)
    assert ev.info["DescriptionId"] == "VirtualMachine.createSnapshot"
    assert ev.info["Task"] == {"Type": "Task", "Value": "task-444942"}


@pytest.mark.parametrize(
    ("fixture", "type_id", "arguments"),
    [
        (
            "EventEx_com.vmware.applmgmt.backup.job.failed.event",
            "com.vmware.applmgmt.backup.job.failed.event",
            [("_sourcehost_", "vcsa.primp-industries.local")],
        ),
        (
            "EventEx_com.vmware.cis.tagging.attach",
            "com.vmware.cis.tagging.attach",
            [
                ("Tag", "example-tag"),
                ("Object", "example-vm"),
                ("User", "VSPHERE.LOCAL\\Administrator"),
            ],
        ),
        (
            "EventEx_com.vmware.vc.HA.ClusterFailoverActionCompletedEvent",
            "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent",
            None,
        ),
    ],
)
def test_eventex(fixture: str, type_id: str, arguments: list[tuple[str, str]] | None) -> None:
    data, _ = data_of(fixture)
    for name in ("EventEx", type_id):  # the router's subject is the type id
        ev = parse_event(data, name=name, category="eventex")
        assert isinstance(ev, EventEx)
        assert ev.class_name == name
        assert ev.event_type_id == type_id
        assert ev.severity == "info"
        got = [(a.key, a.value) for a in ev.arguments] if ev.arguments is not None else None
        assert got == arguments
    ha = parse_event(data, name=type_id)
    assert isinstance(ha, EventEx)  # found from the dotted name / EventTypeId alone
    if "HA" in type_id:
        assert (ha.object_id, ha.object_type, ha.object_name) == (
            "domain-c52",
            "ClusterComputeResource",
            "CL1",
        )


@pytest.mark.parametrize("fixture", sorted(p.name for p in VEBA_EVENTS.glob("Horizon_*.json")))
def test_horizon_payloads_do_not_crash(fixture: str) -> None:
    """Horizon audit events are not vCenter events: InvalidEvent or a plain Event, no crash."""
    body = (VEBA_EVENTS / fixture).read_bytes()
    if body.lstrip().startswith(b"["):  # a list of audit events is not an event
        with pytest.raises(InvalidEvent, match="must be a JSON object"):
            parse_event(body)
        return
    ev = parse_event(body)
    assert type(ev) is Event
    assert ev.extra == json.loads(body)  # everything Horizon sent is kept
