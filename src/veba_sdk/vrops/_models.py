"""Typed views of the vROps JSON the client reads.

Models are frozen attrs classes with snake_case names. Structuring from the
wire lives in the ``from_json`` class methods (one place per model), never in
``__init__``; every model keeps the server's object in ``raw`` for fields the
SDK does not name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "MAINTENANCE_STATES",
    "Alert",
    "AlertNote",
    "NodeStatus",
    "Page",
    "PageInfo",
    "Resource",
    "ResourceState",
]

#: ``resourceState`` values that mean "in maintenance" (timed or manual).
MAINTENANCE_STATES = frozenset({"MAINTAINED", "MAINTAINED_MANUAL"})

T = TypeVar("T")


def _ms_to_datetime(value: Any) -> dt.datetime | None:
    """Epoch milliseconds to an aware UTC datetime; 0 and junk become ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen(kw_only=True)
class ResourceState:
    """One entry of ``resourceStatusStates[]``: the state one adapter instance reports."""

    resource_state: str
    resource_status: str | None = None
    adapter_instance_id: str | None = None
    status_message: str | None = None

    @property
    def in_maintenance(self) -> bool:
        """True for ``MAINTAINED`` (timed) and ``MAINTAINED_MANUAL``."""
        return self.resource_state in MAINTENANCE_STATES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceState:
        """Build from a ``resource-status-state`` object."""
        return cls(
            resource_state=str(data.get("resourceState") or "UNKNOWN"),
            resource_status=_str_or_none(data.get("resourceStatus")),
            adapter_instance_id=_str_or_none(data.get("adapterInstanceId")),
            status_message=_str_or_none(data.get("statusMessage")),
        )


@attrs.frozen(kw_only=True)
class Resource:
    """A vROps resource (a host, VM, datastore ...).

    ``identifiers`` maps resource identifier names to values; for vCenter
    objects ``VMEntityObjectID`` is the moref (``host-19``) and
    ``VMEntityVCID`` the vCenter instance UUID.
    """

    identifier: str
    name: str
    adapter_kind: str
    resource_kind: str
    identifiers: Mapping[str, str] = attrs.field(factory=dict)
    states: tuple[ResourceState, ...] = ()
    health: str | None = None
    creation_time: dt.datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def moref(self) -> str | None:
        """The vCenter managed object id (``VMEntityObjectID``), if any."""
        return self.identifiers.get("VMEntityObjectID")

    @property
    def vcenter_uuid(self) -> str | None:
        """The vCenter instance UUID (``VMEntityVCID``), if any."""
        return self.identifiers.get("VMEntityVCID")

    @property
    def state(self) -> ResourceState:
        """A maintenance state if any adapter instance reports one, else the first state."""
        for st in self.states:
            if st.in_maintenance:
                return st
        if self.states:
            return self.states[0]
        return ResourceState(resource_state="UNKNOWN")

    @property
    def in_maintenance(self) -> bool:
        """True when any adapter instance reports ``MAINTAINED`` or ``MAINTAINED_MANUAL``."""
        return any(st.in_maintenance for st in self.states)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Resource:
        """Build from a ``resource`` object."""
        key = data.get("resourceKey") or {}
        idents: dict[str, str] = {}
        for item in key.get("resourceIdentifiers") or ():
            id_type = item.get("identifierType") or {}
            name = id_type.get("name")
            if isinstance(name, str):
                idents[name] = str(item.get("value") or "")
        return cls(
            identifier=str(data.get("identifier") or ""),
            name=str(key.get("name") or ""),
            adapter_kind=str(key.get("adapterKindKey") or ""),
            resource_kind=str(key.get("resourceKindKey") or ""),
            identifiers=idents,
            states=tuple(
                ResourceState.from_json(s) for s in data.get("resourceStatusStates") or ()
            ),
            health=_str_or_none(data.get("resourceHealth")),
            creation_time=_ms_to_datetime(data.get("creationTime")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class PageInfo:
    """``pageInfo`` of a paged answer; ``page`` is 0-based."""

    page: int
    page_size: int
    total_count: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, *, page: int, page_size: int) -> PageInfo:
        """Build from ``pageInfo``, falling back to what was asked for."""
        data = data or {}
        total = data.get("totalCount")
        return cls(
            page=int(data.get("page", page)),
            page_size=int(data.get("pageSize", page_size)),
            total_count=int(total) if isinstance(total, int) else None,
        )


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of results and its ``PageInfo``."""

    items: tuple[T, ...]
    info: PageInfo


@attrs.frozen(kw_only=True)
class Alert:
    """A vROps alert."""

    alert_id: str
    resource_id: str | None = None
    level: str | None = None
    status: str | None = None
    control_state: str | None = None
    definition_id: str | None = None
    definition_name: str | None = None
    start_time: dt.datetime | None = None
    update_time: dt.datetime | None = None
    cancel_time: dt.datetime | None = None
    suspend_until: dt.datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def active(self) -> bool:
        """Not cancelled."""
        return self.status != "CANCELED"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        """Build from an ``alert`` object."""
        return cls(
            alert_id=str(data.get("alertId") or ""),
            resource_id=_str_or_none(data.get("resourceId")),
            level=_str_or_none(data.get("alertLevel")),
            status=_str_or_none(data.get("status")),
            control_state=_str_or_none(data.get("controlState")),
            definition_id=_str_or_none(data.get("alertDefinitionId")),
            definition_name=_str_or_none(data.get("alertDefinitionName")),
            start_time=_ms_to_datetime(data.get("startTimeUTC")),
            update_time=_ms_to_datetime(data.get("updateTimeUTC")),
            cancel_time=_ms_to_datetime(data.get("cancelTimeUTC")),
            suspend_until=_ms_to_datetime(data.get("suspendUntilTimeUTC")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AlertNote:
    """A note attached to an alert."""

    id: str
    alert_id: str
    note: str
    type: str | None = None
    user_name: str | None = None
    creation_time: dt.datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertNote:
        """Build from an ``alert-note`` object."""
        return cls(
            id=str(data.get("id") or ""),
            alert_id=str(data.get("alertId") or ""),
            note=str(data.get("note") or ""),
            type=_str_or_none(data.get("type")),
            user_name=_str_or_none(data.get("userName")),
            creation_time=_ms_to_datetime(data.get("creationTimeUTC")),
        )


@attrs.frozen(kw_only=True)
class NodeStatus:
    """The answer of the node health check (``/api/deployment/node/status``)."""

    status: str
    system_time: dt.datetime | None = None
    details: str | None = None

    @property
    def online(self) -> bool:
        """True when the node reports ``ONLINE``."""
        return self.status.upper() == "ONLINE"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeStatus:
        """Build from a ``node-status`` object."""
        return cls(
            status=str(data.get("status") or "UNKNOWN"),
            system_time=_ms_to_datetime(data.get("systemTime")),
            details=_str_or_none(data.get("details")),
        )
