"""The generated catalogue, the lazy classes and the static declarations agree."""

from __future__ import annotations

import importlib
import re

import attrs
import pytest

import veba_sdk.events as events
from veba_sdk.events import (
    EVENT_CLASSES,
    Event,
    ManagedObjectReference,
    ancestors,
    event_class_names,
    is_event_class,
)
from veba_sdk.events._catalogue import ARGUMENTS, EVENT_ARGUMENT_TYPES, EVENTS
from veba_sdk.events._models import all_fields, get_class

declared = importlib.import_module("veba_sdk.events._classes")


def test_the_catalogue_has_443_event_classes_and_17_event_argument_types() -> None:
    assert len(EVENTS) == 443
    assert len(EVENT_CLASSES) == 443
    assert len(EVENT_ARGUMENT_TYPES) == 17
    assert set(EVENT_ARGUMENT_TYPES) <= set(ARGUMENTS)
    assert {"KeyAnyValue", "ExtendedEventPair", "ChangesInfoEventArgument"} <= set(ARGUMENTS)
    not_event_suffixed = [n for n in EVENTS if not n.endswith("Event") and n != "EventEx"]
    assert len(not_event_suffixed) == 18
    assert "CustomizationFailed" in not_event_suffixed


def test_names_and_ancestors() -> None:
    names = event_class_names()
    assert names == tuple(sorted(names))
    assert set(names) == set(EVENTS)
    assert ancestors("DrsVmPoweredOnEvent") == (
        "DrsVmPoweredOnEvent",
        "VmPoweredOnEvent",
        "VmEvent",
        "Event",
    )
    assert ancestors("Event") == ("Event",)
    assert is_event_class("HostEvent")
    assert not is_event_class("HostEventArgument")
    assert not is_event_class("com.vmware.vc.HA.X")
    with pytest.raises(KeyError):
        ancestors("NoSuchEvent")
    with pytest.raises(KeyError):
        EVENT_CLASSES["NoSuchEvent"]


def test_every_ancestor_chain_ends_at_event() -> None:
    for name in EVENTS:
        chain = ancestors(name)
        assert chain[0] == name
        assert chain[-1] == "Event"


def test_wire_names_and_versions() -> None:
    base = {f[0]: f for f in EVENTS["Event"][2]}
    assert base["chain_id"][1:3] == ("ChainId", "chainId")
    assert base["full_formatted_message"][1:3] == ("FullFormattedMessage", "fullFormattedMessage")
    assert base["ds"][3] == "DatastoreEventArgument"
    assert base["ds"][5] == "4.0"
    assert base["key"][5] == "2.0"
    assert base["tgw"][5] == "9.1"
    assert base["created_time"][3] == "datetime"
    alarm = {f[0]: f for f in EVENTS["AlarmStatusChangedEvent"][2]}
    assert alarm["from_"][1:3] == ("From", "from")
    # Deep polymorphic values stay mappings; the entity argument's inner key follows the type.
    assert {f[0]: f[3] for f in EVENTS["TaskEvent"][2]}["info"] == "mapping"
    assert {f[0]: f[1] for f in ARGUMENTS["DatastoreEventArgument"][2]} == {
        "datastore": "Datastore"
    }
    for fields in [row[2] for row in EVENTS.values()] + [row[2] for row in ARGUMENTS.values()]:
        for f in fields:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", f[0]), f
            assert f[1] == f[2][:1].upper() + f[2][1:]
            assert re.fullmatch(r"\d+\.\d+(\.\d+)?", f[5]), f


def test_lazy_access_and_hierarchy() -> None:
    from veba_sdk.events import DrsVmPoweredOnEvent, HostEvent, VmPoweredOnEvent

    assert issubclass(DrsVmPoweredOnEvent, VmPoweredOnEvent)
    assert issubclass(HostEvent, Event)
    assert EVENT_CLASSES["HostEvent"] is HostEvent
    assert events.HostEventArgument is get_class("HostEventArgument")
    assert "HostEvent" in dir(events)
    with pytest.raises(AttributeError):
        _ = events.NoSuchThing


def test_every_runtime_class_matches_its_declaration() -> None:
    for name in [*EVENTS, *ARGUMENTS, "ManagedObjectReference"]:
        runtime = get_class(name)
        static = getattr(declared, name)
        assert [a.name for a in attrs.fields(runtime)] == [a.name for a in attrs.fields(static)]
        assert runtime.__name__ == name
        assert runtime.__module__ == "veba_sdk.events"
        if name != "ManagedObjectReference":
            wire = [a.name for a in attrs.fields(runtime) if a.name not in ("extra", "class_name")]
            assert wire == [f[0] for f in all_fields(name)]
        parent = (EVENTS.get(name) or ARGUMENTS.get(name) or (None,))[0]
        if parent is not None:
            assert runtime.__mro__[1] is get_class(parent)


def test_defaults_and_construction() -> None:
    from veba_sdk.events import HostEventArgument, VmPoweredOnEvent

    ev = VmPoweredOnEvent(key=1, template=False)
    assert ev.class_name == "VmPoweredOnEvent"
    assert ev.extra == {}
    assert ev.vm is None
    arg = HostEventArgument("esx01", ManagedObjectReference("HostSystem", "host-19"))
    assert arg.host is not None
    assert arg.host.value == "host-19"
    assert {ManagedObjectReference("HostSystem", "host-19"): 1}[arg.host] == 1
    assert "since vSphere API" in (VmPoweredOnEvent.__doc__ or "")
    assert repr(ev).startswith("VmPoweredOnEvent(key=1,")


def test_declarations_carry_versions_in_docstrings() -> None:
    from pathlib import Path

    text = Path(declared.__file__ or "").read_text(encoding="utf-8")
    assert text.startswith(
        "# Generated by scripts/generate_events.py from pyvmomi 9.1.1.0 — do not edit."
    )
    assert "``Tgw`` / ``tgw``: TgwEventArgument; optional; since vSphere API 9.1." in text
