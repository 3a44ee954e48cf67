"""Echo every vCenter event: one log line with its typed fields, and the same fields as the reply.

The quickest way to see what a VEBA producer actually delivers. Every event, in every producer
shape (event router or VSphereSource; binary or structured CloudEvents; JSON or XML data), is
logged as one line of logfmt ``key=value`` pairs read from the *typed* event, and returned, so the
function's HTTP response body shows the same fields (``veba send`` prints it).

Logged fields (absent ones are left out):

* from the envelope: ``name`` (class name, or the EventEx/ExtendedEvent type id), ``category``
  (``event``/``eventex``/``extendedevent``), ``producer`` (``router``/``vsphere-source``),
  ``class`` (the model class the event was parsed into), the CloudEvent ``id`` and ``source``;
* from the event: ``key``, ``chain_id``, ``created`` (ISO 8601, UTC), ``user``, ``message``
  (vCenter's full formatted message) and the names of the ``datacenter``, ``cluster``
  (compute resource), ``host``, ``vm``, ``datastore``, ``network`` and ``dvs`` it concerns;
* for EventEx: ``type_id``, ``severity``, ``object`` and ``arguments`` (``{key: value}``);
  for ExtendedEvent: ``type_id``, ``managed_object`` and ``arguments`` (its data pairs).

The record also carries the fields as a mapping (``record.veba_echo``) for structured logging.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from veba_sdk import Context, Router
from veba_sdk.events import Event

router = Router()
logger = logging.getLogger(__name__)

# Event field -> logged name, for the entity arguments vCenter fills in.
ENTITIES = (
    ("datacenter", "datacenter"),
    ("compute_resource", "cluster"),
    ("host", "host"),
    ("vm", "vm"),
    ("ds", "datastore"),
    ("net", "network"),
    ("dvs", "dvs"),
)


def _pairs(items: Any) -> dict[str, Any]:
    """``[KeyAnyValue(key, value), ...]`` (or ExtendedEventPair) as a plain ``{key: value}``."""
    out: dict[str, Any] = {}
    for item in items or ():
        key = getattr(item, "key", None)
        if key is None and isinstance(item, dict):
            key, value = item.get("key", item.get("Key")), item.get("value", item.get("Value"))
        else:
            value = getattr(item, "value", None)
        if key is not None:
            out[str(key)] = value
    return out


def describe(event: Event, ctx: Context) -> dict[str, Any]:
    """The fields the echo logs, read from the typed event and its envelope."""
    fields: dict[str, Any] = {
        "name": ctx.name,
        "category": ctx.category,
        "producer": ctx.producer,
        "class": type(event).__name__,
        "id": ctx.id,
        "source": ctx.source,
        "key": event.key,
        "chain_id": event.chain_id,
        "created": event.created_time.isoformat() if event.created_time else None,
        "user": event.user_name or None,
        "message": event.full_formatted_message or None,
    }
    for attribute, label in ENTITIES:
        argument = getattr(event, attribute, None)
        if argument is not None and argument.name:
            fields[label] = argument.name
    if ctx.category == "eventex":
        fields["type_id"] = getattr(event, "event_type_id", None)
        fields["severity"] = getattr(event, "severity", None) or None
        fields["object"] = getattr(event, "object_name", None) or None
        fields["arguments"] = _pairs(getattr(event, "arguments", None))
    elif ctx.category == "extendedevent":
        fields["type_id"] = getattr(event, "event_type_id", None)
        managed = getattr(event, "managed_object", None)
        fields["managed_object"] = f"{managed.type}:{managed.value}" if managed else None
        fields["arguments"] = _pairs(getattr(event, "data", None))
    return {key: value for key, value in fields.items() if value is not None}


@router.on("*")
def echo(event: Event, ctx: Context) -> dict[str, Any]:
    """Log every event's typed fields on one line and answer with them.

    ``"*"`` matches every class name and every EventEx/ExtendedEvent type id, so this runs
    for each event alongside any other handler later added to the router (fan-out); a
    ``@router.default`` handler, by contrast, would only see events nothing else handled.
    """
    fields = describe(event, ctx)
    line = " ".join(f"{key}={_logfmt(value)}" for key, value in fields.items())
    logger.info("echo %s", line, extra={"veba_echo": fields})
    return fields


def _logfmt(value: Any) -> str:
    """A value as one logfmt token: bare when it has no spaces or quotes, else JSON."""
    if isinstance(value, str) and value and not any(c in value for c in ' "=\\'):
        return value
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, default=str)
