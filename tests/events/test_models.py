"""The model classes behave as attrs classes do, though they are not built by attrs.

``_models`` builds each class with one generated ``__init__`` and shares ``__eq__``,
``__repr__`` and pickling support from the root; ``__attrs_attrs__`` is made by attrs on first
access. These tests pin the attrs behaviour users rely on, and the stdlib JSON fast path.
"""

from __future__ import annotations

import copy
import inspect
import json
import pickle
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import attrs
import pytest

from veba_sdk._errors import InvalidEvent
from veba_sdk.events import (
    EVENT_CLASSES,
    ManagedObjectReference,
    _codec,
    parse_event,
    to_dict,
)
from veba_sdk.events._catalogue import ARGUMENTS, EVENTS
from veba_sdk.events._models import get_class

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "veba-events"
MAINTENANCE = FIXTURES / "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"


def _twin(name: str) -> type[Any]:
    """The class attrs itself makes for a catalogue row (what the models used to be)."""
    if name == "ManagedObjectReference":
        return attrs.make_class(
            name,
            {"type": attrs.field(), "value": attrs.field(),
             "server_guid": attrs.field(default=None)},
            hash=True, slots=True,
        )  # fmt: skip
    parent, _since, own = EVENTS[name] if name in EVENTS else ARGUMENTS[name]
    these: dict[str, Any] = {f[0]: attrs.field(default=None) for f in own}
    if name == "Event":
        these["extra"] = attrs.field(factory=dict)
        these["class_name"] = attrs.field(
            default=attrs.Factory(lambda self: type(self).__name__, takes_self=True)
        )
    bases = (_twin(parent),) if parent is not None else (object,)
    return attrs.make_class(name, these, bases=bases, kw_only=name in EVENTS, slots=True)


@pytest.mark.parametrize(
    "name",
    ["Event", "HostEvent", "VmPoweredOnEvent", "DrsVmPoweredOnEvent", "AlarmStatusChangedEvent",
     "HostEventArgument", "EventArgument", "RoleEventArgument", "ManagedObjectReference"],
)  # fmt: skip
def test_same_signature_fields_and_repr_as_an_attrs_class(name: str) -> None:
    cls = get_class(name)
    twin = _twin(name)
    assert str(inspect.signature(cls)) == str(inspect.signature(twin))
    ours = attrs.fields(cls)
    theirs = attrs.fields(twin)
    assert [(a.name, a.kw_only, a.init, a.alias) for a in ours] == [
        (a.name, a.kw_only, a.init, a.alias) for a in theirs
    ]
    assert getattr(cls, "__match_args__", ()) == getattr(twin, "__match_args__", ())
    args: tuple[Any, ...] = ("HostSystem", "host-1") if name == "ManagedObjectReference" else ()
    assert repr(cls(*args)) == repr(twin(*args)).replace(twin.__qualname__, cls.__qualname__)
    assert attrs.has(cls)
    assert (cls.__hash__ is None) == (twin.__hash__ is None)


def test_attrs_functions_work_on_instances() -> None:
    from veba_sdk.events import VmPoweredOnEvent as cls

    mo = ManagedObjectReference("VirtualMachine", "vm-1")
    ev = cls(key=1, vm=get_class("VmEventArgument")("web01", mo), template=False)
    assert attrs.fields(cls).key.name == "key"
    assert attrs.fields_dict(cls)["template"].default is None
    as_dict = attrs.asdict(ev)
    assert as_dict["vm"] == {
        "name": "web01",
        "vm": {"type": "VirtualMachine", "value": "vm-1", "server_guid": None},
    }
    assert as_dict["class_name"] == "VmPoweredOnEvent"
    changed = attrs.evolve(ev, key=2)
    assert changed.key == 2
    assert changed.vm == ev.vm
    assert changed is not ev
    assert attrs.evolve(ev) == ev


def test_eq_repr_hash_copy_pickle_weakref() -> None:
    cls = EVENT_CLASSES["DrsVmPoweredOnEvent"]
    a = cls(key=1, extra={"X": 1})
    b = cls(key=1, extra={"X": 1})
    assert a == b
    assert (a != b) is False
    assert a != cls(key=2)
    assert a != EVENT_CLASSES["VmPoweredOnEvent"](key=1, extra={"X": 1})  # class matters
    assert (a == object()) is False
    with pytest.raises(TypeError):
        hash(a)
    assert copy.copy(a) == a
    assert copy.deepcopy(a) == a
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(a, protocol)) == a
    assert weakref.ref(a)() is a
    assert not hasattr(a, "__dict__")
    with pytest.raises(AttributeError):
        a.no_such_field = 1  # type: ignore[attr-defined]
    a.extra["self"] = a
    assert "extra={'X': 1, 'self': ...}" in repr(a)
    mo = ManagedObjectReference("HostSystem", "host-19")
    assert hash(mo) == hash(ManagedObjectReference("HostSystem", "host-19"))
    assert {mo: 1}[ManagedObjectReference("HostSystem", "host-19")] == 1


def test_isinstance_and_user_subclasses() -> None:
    from veba_sdk.events import HostEvent

    ev = parse_event(MAINTENANCE.read_bytes(), name="EnteredMaintenanceModeEvent")
    assert isinstance(ev, HostEvent)

    class Plain(HostEvent):
        __slots__ = ()

    assert [a.name for a in attrs.fields(Plain)] == [a.name for a in attrs.fields(HostEvent)]
    assert Plain(key=3).class_name == "Plain"

    @attrs.define
    class Mine(HostEvent):
        note: str = "n"

    mine = Mine(key=4, note="hi")
    assert mine.key == 4
    assert mine.note == "hi"
    assert mine.class_name == "Mine"
    assert attrs.fields(Mine)[-1].name == "note"


def test_import_neither_attrs_nor_a_json_library() -> None:
    code = (
        "import sys\n"
        "import veba_sdk.events as ev\n"
        "ev.EVENT_CLASSES['DrsVmPoweredOnEvent'](key=1)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('attr', 'attrs', 'orjson')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.fixture
def stdlib_json() -> Any:
    _codec.select_json("json")
    yield
    _codec.select_json(None)


def _data_only_fixtures() -> list[tuple[Path, str]]:
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict):
            continue
        name = data.get("_typeName") or path.name.split("__")[0]
        if ("Key" in data or "key" in data) and name in EVENTS:
            found.append((path, name))
    return found


@pytest.mark.parametrize(("path", "name"), _data_only_fixtures(), ids=lambda p: str(p)[-50:])
def test_stdlib_fast_path_gives_what_json_loads_gives(
    path: Path, name: str, stdlib_json: Any
) -> None:
    body = path.read_bytes()
    first = parse_event(body, name=name)  # full path; compiles the structuring function
    again = parse_event(body, name=name)  # fast path
    assert again == first
    assert to_dict(again) == to_dict(parse_event(json.loads(body), name=name))


@pytest.mark.parametrize(
    "body",
    [
        b'{"Key": 1} {"Key": 2}',  # extra data
        b'{"Key": 1,}',  # invalid
        '{"Key": 1}'.encode("utf-16-le"),  # json.loads reads UTF-16; the fast path must not
        b'{"Key": "\xff"}',  # invalid UTF-8
        b'{"Key": 1} \x0b',  # not JSON whitespace
    ],
)
def test_stdlib_fast_path_falls_back_on_anything_odd(body: bytes, stdlib_json: Any) -> None:
    parse_event(b'{"Key": 1}', name="HostEvent")  # make the fast path available
    try:
        expected: Any = json.loads(body)
    except ValueError:
        with pytest.raises(InvalidEvent):
            parse_event(body, name="HostEvent")
    else:
        assert parse_event(body, name="HostEvent").key == expected["Key"]
    assert parse_event(b'{"Key": 1} \r\n\t', name="HostEvent").key == 1
