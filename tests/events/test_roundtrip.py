"""Every one of the 443 classes, in every producer form, parses to itself and round-trips.

Payloads are generated from the catalogue: PascalCase (legacy govmomi), lowerCamel
(govmomi >= 0.31), lowerCamel with ``_typeName`` everywhere (govmomi's encoder), XML (root
element named by the class, and ``<event xsi:type=...>``), sparse (only Key, ChainId,
CreatedTime, UserName) and every optional field ``null``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

from veba_sdk.events import parse_event, to_dict
from veba_sdk.events._catalogue import ARGUMENTS, EVENTS
from veba_sdk.events._models import all_fields, get_class

TIME = "2024-01-02T03:04:05.123456Z"
MOREF_TYPES = {"host": "HostSystem", "vm": "VirtualMachine", "datastore": "Datastore"}
NAMES = sorted(EVENTS)


def value_for(kind: str, name: str, camel: bool, typed: bool) -> Any:
    """A plausible wire value of a catalogue kind."""
    if kind.startswith("list:"):
        return [value_for(kind[5:], name, camel, typed) for _ in range(2)]
    if kind == "int":
        return 7
    if kind == "float":
        return 1.5
    if kind == "bool":
        return True
    if kind == "str":
        return f"{name}-text"
    if kind == "datetime":
        return TIME
    if kind == "any":
        return "any-value"
    if kind == "mapping":
        # Strings only, so XML (which carries no scalar types) reads back the same values.
        return {"Description": "deep", "Nested": {"Items": ["a", "b"]}}
    if kind == "moref":
        mo_type = MOREF_TYPES.get(name, "ManagedEntity")
        if camel:
            mo = {"type": mo_type, "value": f"{name}-1"}
            return {"_typeName": "ManagedObjectReference", **mo} if typed else mo
        return {"Type": mo_type, "Value": f"{name}-1"}
    return object_for(kind, camel, typed)


def object_for(class_name: str, camel: bool, typed: bool, *, nulls: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"_typeName": class_name} if typed else {}
    for f in all_fields(class_name):
        key = f[2] if camel else f[1]
        out[key] = None if (nulls and f[4]) else value_for(f[3], f[0], camel, typed)
    return out


def strip_type_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_type_names(v) for k, v in value.items() if k != "_typeName"}
    if isinstance(value, list):
        return [strip_type_names(v) for v in value]
    return value


def to_xml(tag: str, value: Any, kind: str) -> str:
    """The XML a vSphere producer would write for a value of a catalogue kind."""
    if kind.startswith("list:"):
        return "".join(to_xml(tag, v, kind[5:]) for v in value)
    if kind == "moref":
        return f"<{tag} type={quoteattr(value['type'])}>{escape(value['value'])}</{tag}>"
    if kind in ARGUMENTS:
        kinds = {f[2]: f[3] for f in all_fields(kind)}
        inner = "".join(to_xml(k, v, kinds[k]) for k, v in value.items())
        return f'<{tag} xsi:type="{kind}">{inner}</{tag}>'
    if isinstance(value, dict):
        inner = "".join(to_xml(k, v, "mapping") for k, v in value.items())
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, list):
        return "".join(to_xml(tag, v, kind) for v in value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"<{tag}>{escape(text)}</{tag}>"


def xml_document(name: str, camel: dict[str, Any], *, root: str | None = None) -> str:
    kinds = {f[2]: f[3] for f in all_fields(name)}
    body = "".join(to_xml(k, v, kinds[k]) for k, v in camel.items())
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25"'
    if root is None:
        return f"<{name} {xsi}>{body}</{name}>"
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return f'{head}<{root} {xsi} xsi:type="{name}">{body}</{root}>'


@pytest.mark.parametrize("name", NAMES)
def test_every_form_of_every_class(name: str) -> None:
    cls = get_class(name)
    pascal = object_for(name, camel=False, typed=False)
    camel = object_for(name, camel=True, typed=False)
    typed = object_for(name, camel=True, typed=True)

    ev = parse_event(pascal, name=name)
    assert type(ev) is cls
    assert ev.extra == {}
    assert ev.class_name == name
    assert ev.created_time == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert to_dict(ev) == pascal
    assert to_dict(ev, style="camel") == camel

    from_camel = parse_event(camel, name=name)
    assert from_camel == ev
    from_typed = parse_event(typed)  # the class comes from _typeName
    assert from_typed == ev
    assert to_dict(from_typed, style="camel") == strip_type_names(typed)

    for document in (xml_document(name, camel), xml_document(name, camel, root="event")):
        from_xml = parse_event(document.encode(), content_type="application/xml")
        assert from_xml == ev, document


@pytest.mark.parametrize("name", NAMES)
def test_sparse_and_null_forms(name: str) -> None:
    cls = get_class(name)
    sparse = {"Key": 1, "ChainId": 1, "CreatedTime": TIME, "UserName": ""}
    ev = parse_event(sparse, name=name)
    assert type(ev) is cls
    assert (ev.key, ev.chain_id, ev.user_name) == (1, 1, "")
    out = to_dict(ev)
    assert {k: out[k] for k in sparse} == sparse
    assert all(v is None for k, v in out.items() if k not in sparse)
    assert parse_event(out, name=name) == ev
    assert to_dict(ev, style="camel") == {
        "key": 1,
        "chainId": 1,
        "createdTime": TIME,
        "userName": "",
    }

    nulls = object_for(name, camel=False, typed=False, nulls=True)
    ev = parse_event(nulls, name=name)
    assert type(ev) is cls
    assert ev.extra == {}
    optional = [f for f in all_fields(name) if f[4]]
    assert all(getattr(ev, f[0]) is None for f in optional)
    out = to_dict(ev)
    assert {k: v for k, v in nulls.items() if k in out} == out
    assert parse_event(out, name=name) == ev
