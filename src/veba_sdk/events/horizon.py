"""Horizon audit events, as VEBA's two Horizon producers deliver them.

* the event router's Horizon provider (v0.7+): CloudEvent ``type``
  ``com.vmware.event.router/horizon.<lower-cased Horizon type>.v0``, ``id`` the Horizon event id;
* the appliance's Horizon source (v0.8+, sources-for-knative): ``type``
  ``com.vmware.horizon.<lower-cased Horizon type>.v0``, ``id`` the Horizon event id.

Both send the Horizon REST API's ``AuditEventSummary`` as JSON ``data``, snake_case, with empty
fields left out (``time`` in epoch milliseconds). The event's name is ``horizon.`` and the
Horizon type upper-cased again (``horizon.VLSI_USERLOGGEDIN_REST``): what routes name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from .._errors import InvalidEvent
from ..wire import HORIZON_NAME_PREFIX, HORIZON_ROUTER_PREFIX, HORIZON_SOURCE_PREFIX, TYPE_SUFFIX

__all__ = [
    "HORIZON_PREFIX",
    "HORIZON_ROUTER_PREFIX",
    "HORIZON_SOURCE_PREFIX",
    "HorizonEvent",
    "horizon_name",
    "parse_horizon",
]

#: What every Horizon event's name starts with (``horizon.VLSI_USERLOGGEDIN_REST``): the wire's
#: :data:`~veba_sdk.wire.HORIZON_NAME_PREFIX`. ``HORIZON_ROUTER_PREFIX`` and
#: ``HORIZON_SOURCE_PREFIX``, the two producers' CloudEvent type prefixes, are the wire's too.
HORIZON_PREFIX = HORIZON_NAME_PREFIX
_INTEGER_FIELDS = ("id",)
_TEXT_FIELDS = (
    "type",
    "severity",
    "module",
    "message",
    "machine_dns_name",
    "machine_id",
    "user_id",
    "desktop_pool_name",
    "application_pool_name",
)


@attrs.define(kw_only=True)
class HorizonEvent:
    """A Horizon audit event (the Horizon REST API's ``AuditEventSummary``).

    Every field may be ``None``: Horizon leaves out what does not apply (``user_id`` on broker
    events, the pool names on most). Fields the SDK does not know are kept in ``extra``.

    Attributes:
        id: the Horizon event id (also the CloudEvent ``id``).
        type: the Horizon event type, e.g. ``"VLSI_USERLOGGEDIN_REST"``.
        severity: ``INFO``, ``WARNING``, ``ERROR``, ``AUDIT_SUCCESS``, ``AUDIT_FAIL``, ``UNKNOWN``.
        module: the Horizon component that logged it (``Broker``, ``Vlsi``, ``Rest``...).
        message: the audit message.
        time: when it happened, an aware UTC datetime (Horizon sends epoch milliseconds).
        machine_dns_name: the pod machine that logged it.
        machine_id: the desktop machine concerned, if any.
        user_id: the user's SID, if any.
        desktop_pool_name: the desktop pool concerned, if any.
        application_pool_name: the application pool concerned, if any.
        extra: every other field, as sent.
    """

    id: int | None = None
    type: str | None = None
    severity: str | None = None
    module: str | None = None
    message: str | None = None
    time: datetime | None = None
    machine_dns_name: str | None = None
    machine_id: str | None = None
    user_id: str | None = None
    desktop_pool_name: str | None = None
    application_pool_name: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def name(self) -> str:
        """The name routes use: ``"horizon."`` and the type (``horizon.VLSI_USERLOGGEDIN``)."""
        return HORIZON_PREFIX + (self.type or "")

    def to_dict(self) -> dict[str, Any]:
        """The event as Horizon sends it: snake_case keys, empty fields left out, ``time`` in
        epoch milliseconds, unknown fields as they came."""
        out: dict[str, Any] = {}
        for field in attrs.fields(HorizonEvent):
            if field.name == "extra":
                continue
            value = getattr(self, field.name)
            if value is None:
                continue
            if field.name == "time":
                value = round(value.timestamp() * 1000)
            out[field.name] = value
        out.update(self.extra)
        return out


def horizon_name(ce_type: str) -> str | None:
    """``horizon.<TYPE>`` for a Horizon producer's CloudEvent type, else ``None``."""
    for prefix in (HORIZON_ROUTER_PREFIX, HORIZON_SOURCE_PREFIX):
        if ce_type.startswith(prefix) and ce_type.endswith(TYPE_SUFFIX):
            event_type = ce_type[len(prefix) : -len(TYPE_SUFFIX)]
            if event_type:
                return HORIZON_PREFIX + event_type.upper()
    return None


def _time(value: Any) -> datetime | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        value = int(text)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, UTC)
    raise ValueError(f"not a time: {value!r}")


def parse_horizon(data: Any) -> HorizonEvent:
    """A :class:`HorizonEvent` from a Horizon producer's JSON data (a decoded mapping).

    Tolerant as the vCenter models are: a field of the wrong type is kept in ``extra`` under
    its own name rather than failing the event.

    Raises:
        InvalidEvent: ``data`` is not a JSON object.
    """
    if not isinstance(data, Mapping):
        raise InvalidEvent(
            f"a Horizon event's data must be a JSON object, not {type(data).__name__}",
            field="data",
        )
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        try:
            if key == "time":
                values[key] = _time(value)
            elif key in _INTEGER_FIELDS:
                if value is None or value == "":
                    values[key] = None
                elif isinstance(value, bool) or not isinstance(value, (int, str)):
                    raise ValueError(value)
                else:
                    values[key] = int(value)
            elif key in _TEXT_FIELDS:
                if value is not None and not isinstance(value, str):
                    raise ValueError(value)
                values[key] = value if value != "" else None
            else:
                extra[key] = value
        except (ValueError, OverflowError, OSError):
            extra[key] = value
    return HorizonEvent(**values, extra=extra)
