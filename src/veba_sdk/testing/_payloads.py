"""The payload of a made event: the values vCenter fills in, as a plausible inventory.

:func:`~veba_sdk.testing.make_event` builds the tree of one event class here: the entity
arguments its base class carries, a plausible value per field, overrides merged in by
python path, and the result converted to wire names.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..wire import format_time

__all__ = [
    "DEFAULT_TYPE_IDS",
    "DEFAULT_USER",
    "base_tree",
    "catalogue",
    "describe",
    "merge",
    "wire",
]

DEFAULT_USER = "VSPHERE.LOCAL\\Administrator"
DEFAULT_TYPE_IDS = {
    "EventEx": "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent",
    "ExtendedEvent": "com.vmware.vcIntegrity.ScanStart",
}

# The entity arguments vCenter fills in, by the nearest base class of the event.
_ENTITIES: dict[str, tuple[str, ...]] = {
    "VmEvent": ("datacenter", "compute_resource", "host", "vm", "ds"),
    "HostEvent": ("datacenter", "compute_resource", "host"),
    "ClusterEvent": ("datacenter", "compute_resource"),
    "DatastoreEvent": ("datacenter", "ds"),
    "DvsEvent": ("datacenter", "dvs"),
    "DatacenterEvent": ("datacenter",),
    "EventEx": ("datacenter", "compute_resource"),
    "ResourcePoolEvent": ("datacenter", "compute_resource"),
    "AlarmEvent": ("datacenter",),
}

# Plausible inventory: argument type -> (entity name, MoRef type, MoRef value).
_INVENTORY: dict[str, tuple[str, str, str]] = {
    "DatacenterEventArgument": ("Datacenter", "Datacenter", "datacenter-3"),
    "ComputeResourceEventArgument": ("Cluster-01", "ClusterComputeResource", "domain-c8"),
    "HostEventArgument": ("esx01.vsphere.local", "HostSystem", "host-19"),
    "VmEventArgument": ("web-01", "VirtualMachine", "vm-42"),
    "DatastoreEventArgument": ("datastore1", "Datastore", "datastore-15"),
    "NetworkEventArgument": ("VM Network", "Network", "network-17"),
    "DvsEventArgument": ("DSwitch-01", "VmwareDistributedVirtualSwitch", "dvs-21"),
    "FolderEventArgument": ("Discovered virtual machine", "Folder", "group-v4"),
    "ResourcePoolEventArgument": ("Resources", "ResourcePool", "resgroup-9"),
    "ManagedEntityEventArgument": ("esx01.vsphere.local", "HostSystem", "host-19"),
    "AlarmEventArgument": ("Host connection and power state", "Alarm", "alarm-1"),
    "ScheduledTaskEventArgument": ("Nightly snapshot", "ScheduledTask", "schedule-2"),
    "TgwEventArgument": ("tgw-01", "TransitGateway", "tgw-1"),
}
_MOREF_TYPES = {
    "alarm": ("Alarm", "alarm-1"),
    "managedObject": ("HostSystem", "host-19"),
    "entity": ("HostSystem", "host-19"),
    "profile": ("HostProfile", "hostprofile-1"),
}
_STRINGS = {
    "user_name": DEFAULT_USER,
    "severity": "info",
    "message": "",
    "object_type": "ClusterComputeResource",
    "object_id": "domain-c8",
    "object_name": "Cluster-01",
    "change_tag": "",
}


def catalogue() -> tuple[Any, Any, Any]:
    from ..events.catalogue import ARGUMENTS, EVENTS, all_fields

    return EVENTS, ARGUMENTS, all_fields


def _words(class_name: str) -> str:
    base = class_name[:-5] if class_name.endswith("Event") else class_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base).lower()


def _default_value(field_name: str, camel: str, kind: str, optional: bool, since: str) -> Any:
    """A plausible value for one field of a freshly made event (python names, nested)."""
    if kind.startswith("list:"):
        return []
    if kind == "int":
        return 1
    if kind == "float":
        return 0.0
    if kind == "bool":
        return False
    if kind == "datetime":
        return datetime.now(UTC)
    if kind == "str":
        if field_name in _STRINGS:
            return _STRINGS[field_name]
        return None if optional else ""
    if kind == "moref":
        mo_type, mo_value = _MOREF_TYPES.get(camel, ("ManagedEntity", "entity-1"))
        return {"type": mo_type, "value": mo_value}
    if kind in ("mapping", "any"):
        return None
    return None if optional else _argument(kind)


def _argument(kind: str) -> dict[str, Any] | None:
    """A filled-in argument object (python names), e.g. a ``HostEventArgument``."""
    _events, arguments, all_fields = catalogue()
    if kind not in arguments:
        return None
    inventory = _INVENTORY.get(kind)
    out: dict[str, Any] = {}
    for field in all_fields(kind):
        py, _pascal, camel, field_kind, optional, since = field
        if field_kind == "moref" and inventory is not None:
            out[py] = {"type": inventory[1], "value": inventory[2]}
        elif py == "name" and inventory is not None:
            out[py] = inventory[0]
        else:
            out[py] = _default_value(py, camel, field_kind, optional, since)
    return out


def base_tree(class_name: str) -> dict[str, Any]:
    """Every field of a class with vCenter-like defaults, keyed by python name."""
    from ..events import ancestors

    _events, _arguments, all_fields = catalogue()
    chain = ancestors(class_name)
    entities = next((_ENTITIES[c] for c in chain if c in _ENTITIES), ())
    key = random.randint(10_000, 99_999_999)
    tree: dict[str, Any] = {}
    for field in all_fields(class_name):
        py, _pascal, camel, kind, optional, since = field
        if py in ("key", "chain_id"):
            tree[py] = key
        elif py in ("datacenter", "compute_resource", "host", "vm", "ds", "net", "dvs", "tgw"):
            tree[py] = _argument(kind) if py in entities else None
        elif py in ("full_formatted_message", "audit_id"):
            tree[py] = None
        else:
            tree[py] = _default_value(py, camel, kind, optional, since)
    if class_name in DEFAULT_TYPE_IDS:
        tree["event_type_id"] = DEFAULT_TYPE_IDS[class_name]
    return tree


def _plain(value: Any) -> Any:
    """Model instances given as overrides, as nested python-name mappings."""
    if hasattr(value, "__attrs_attrs__"):
        return {
            a.name: _plain(getattr(value, a.name))
            for a in value.__attrs_attrs__
            if a.name not in ("extra", "class_name")
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def merge(tree: dict[str, Any], path: list[str], value: Any, known: Mapping[str, str]) -> None:
    """Set ``tree[path]``, merging mappings; ``known`` maps field names to kinds (checked)."""
    _events, arguments, all_fields = catalogue()
    head = path[0]
    if known and head not in known:
        raise TypeError(f"no field {head!r}; fields are: {', '.join(sorted(known))}")
    kind = known.get(head, "any")
    if len(path) > 1:
        child = tree.get(head)
        if not isinstance(child, dict):
            child = (_argument(kind) if kind in arguments else None) or {}
            tree[head] = child
        sub_known = {f[0]: f[3] for f in all_fields(kind)} if kind in arguments else {}
        if kind == "moref":
            sub_known = {"type": "str", "value": "str", "server_guid": "str"}
        merge(child, path[1:], value, sub_known)
        return
    value = _plain(value)
    current = tree.get(head)
    if isinstance(value, Mapping) and isinstance(current, dict) and kind not in ("mapping", "any"):
        for sub, sub_value in value.items():
            merge(current, [sub], sub_value, {})
    else:
        tree[head] = value


def describe(tree: Mapping[str, Any], class_name: str) -> str:
    """A FullFormattedMessage in vCenter's manner, from the event's entities."""
    if class_name in DEFAULT_TYPE_IDS:
        from ..events import type_id_info

        type_id = tree.get("event_type_id") or class_name
        info = type_id_info(str(type_id))
        if info is not None and info.description and info.description != type_id:
            return info.description  # vCenter's own words for the id
        target = tree.get("object_name") or "Cluster-01"
        return f"{type_id} on {target}"
    text = _words(class_name)
    text = text[:1].upper() + text[1:]
    for field, label in (
        ("vm", "VM"),
        ("host", "host"),
        ("ds", "datastore"),
        ("dvs", "switch"),
        ("compute_resource", "cluster"),
        ("datacenter", "datacenter"),
    ):
        argument = tree.get(field)
        if isinstance(argument, Mapping) and argument.get("name"):
            return f"{text}: {label} {argument['name']}"
    return text


def wire(tree: Any, kind: str) -> Any:
    """Python-name values to the lowerCamel wire shape the parser reads."""
    _events, arguments, all_fields = catalogue()
    if tree is None:
        return None
    if kind.startswith("list:"):
        return [wire(v, kind[5:]) for v in tree]
    if kind == "datetime" and isinstance(tree, datetime):
        return format_time(tree)
    if kind == "moref" and isinstance(tree, Mapping):
        mo = {"type": tree.get("type", ""), "value": tree.get("value", "")}
        if tree.get("server_guid"):
            mo["serverGuid"] = tree["server_guid"]
        return mo
    if kind in arguments and isinstance(tree, Mapping):
        fields = {f[0]: f for f in all_fields(kind)}
        return {
            (fields[k][2] if k in fields else k): (wire(v, fields[k][3]) if k in fields else v)
            for k, v in tree.items()
        }
    return tree
