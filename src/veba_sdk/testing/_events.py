"""Realistic vCenter events and the exact envelopes VEBA's producers wrap them in.

:func:`make_event` builds a typed event of any catalogue class (or an EventEx/ExtendedEvent by
type id) with the values vCenter fills in; :func:`to_cloudevent`, :func:`to_eventbridge` and
:func:`to_openfaas` wrap it the way the event router or the VSphereSource deliver it, so a test
exercises the same bytes a deployed function receives.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast
from xml.sax.saxutils import escape, quoteattr

from .._extras import needs_extra
from .._routes import suggest_name
from ..events import (
    HorizonEvent,
    ancestors,
    is_event_class,
    parse_event,
    to_dict,
    type_id_info,
)
from ..events.http import encode_cloudevent
from ..wire import (
    CATEGORY_FOR_CLASS,
    HORIZON_NAME_PREFIX,
    HORIZON_ROUTER_PREFIX,
    HORIZON_SOURCE_PREFIX,
    JSON_MEDIA_TYPE,
    PRODUCERS,
    STRUCTURED_MEDIA_TYPE,
    TYPE_SUFFIX,
    XML_MEDIA_TYPE,
    format_time,
    router_type,
    vsphere_type,
)
from ._payloads import (
    base_tree,
    catalogue,
    describe,
    merge,
    wire,
)

if TYPE_CHECKING:
    import httpx

    from ..events import Event

__all__ = [
    "DEFAULT_SOURCE",
    "VSPHERE_API_VERSION",
    "Encoding",
    "Mode",
    "Producer",
    "class_for_name",
    "event_name",
    "make_event",
    "make_horizon_event",
    "send",
    "to_cloudevent",
    "to_eventbridge",
    "to_openfaas",
]

DEFAULT_SOURCE = "https://vcenter.vsphere.local/sdk"
VSPHERE_API_VERSION = "8.0.3.0"
#: Who sends an event: the event router, the VSphereSource, or (Horizon events) the v0.8 Horizon
#: source.
Producer = Literal["router", "vsphere-source", "horizon-source"]
#: The CloudEvents HTTP binding's content mode.
Mode = Literal["binary", "structured"]
#: The data's encoding (XML: a VSphereSource without ``payloadEncoding``).
Encoding = Literal["json", "xml"]
MODES: tuple[Mode, ...] = ("binary", "structured")
ENCODINGS: tuple[Encoding, ...] = ("json", "xml")


def event_name(event: Event) -> str:
    """The name a producer puts on the wire: the class name, or the EventEx/ExtendedEvent id."""
    category = _category_of(event)
    if category != "event":
        type_id = getattr(event, "event_type_id", None)
        if type_id:
            return str(type_id)
    return str(event.class_name)


def _category_of(event: Event) -> str:
    try:
        chain = ancestors(type(event).__name__)
    except KeyError:
        return "event"
    for class_name, category in CATEGORY_FOR_CLASS.items():
        if class_name in chain:
            return category
    return "event"


def class_for_name(name: str) -> str:
    """The model class a producer's event of this name is: the class itself, or for a type id
    ``ExtendedEvent`` where a catalogued release lists it as one, else ``EventEx``.

    Raises:
        KeyError: ``name`` is no class and no type id (with suggestions).
    """
    if is_event_class(name):
        return name
    info = type_id_info(name)
    if info is not None:
        return info.kind
    if "." in name:  # an id no catalogued release knows (a newer vCenter's): an EventEx
        return "EventEx"
    raise KeyError(f"{name!r} is not a vCenter event class{suggest_name(name)}")


def make_event(name: str, **overrides: Any) -> Event:
    """A realistic typed event of any catalogue class, or an EventEx/ExtendedEvent by type id.

    Args:
        name: a class name (``"EnteredMaintenanceModeEvent"``) or an EventEx/ExtendedEvent
            type id (``"com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"``): an
            ExtendedEvent where a catalogued vCenter release lists the id as one, else an
            EventEx (ids no release knows included). To choose the class yourself, use
            ``make_event("ExtendedEvent", event_type_id=...)``.
        **overrides: field values by python name. Nested fields either as
            ``host__name="esx01"`` or ``host={"name": "esx01"}`` (merged into the defaults).

    Returns:
        The typed event, with a random key (and the same chain id), ``created_time`` now in
        UTC, user ``VSPHERE.LOCAL\\Administrator``, the entities vCenter fills for the class
        with plausible names and MoRefs, and a ``full_formatted_message``.

    Raises:
        KeyError: ``name`` is no event class (with suggestions).
        TypeError: an override names no field of the class.
    """
    _events, _arguments, all_fields = catalogue()
    class_name = class_for_name(name)
    tree = base_tree(class_name)
    if class_name != name:
        tree["event_type_id"] = name
    fields = all_fields(class_name)
    known = {f[0]: f[3] for f in fields}
    message_given = False
    for key, value in overrides.items():
        path = key.split("__")
        message_given = message_given or path[0] == "full_formatted_message"
        merge(tree, path, value, known)
    if not message_given:
        tree["full_formatted_message"] = describe(tree, class_name)
    payload = {f[2]: wire(tree.get(f[0]), f[3]) for f in fields}
    return parse_event(payload, name=class_name)


# -- envelopes -----------------------------------------------------------------------------


def _xml_value(tag: str, value: Any, kind: str, parts: list[str]) -> None:
    _events, arguments, _all_fields = catalogue()
    if value is None:
        return
    if kind.startswith("list:"):
        for item in value:
            _xml_value(tag, item, kind[5:], parts)
        return
    if kind == "moref" and isinstance(value, Mapping):
        guid = value.get("serverGuid")
        extra = f" serverGuid={quoteattr(str(guid))}" if guid else ""
        parts.append(
            f"<{tag} type={quoteattr(str(value.get('type', '')))}{extra}>"
            f"{escape(str(value.get('value', '')))}</{tag}>"
        )
        return
    if kind in arguments and isinstance(value, Mapping):
        parts.append(f"<{tag}>")
        _xml_fields(value, kind, parts)
        parts.append(f"</{tag}>")
        return
    if isinstance(value, Mapping):
        parts.append(f"<{tag}>")
        for key, item in value.items():
            if key != "_typeName":
                _xml_value(key, item, "any", parts)
        parts.append(f"</{tag}>")
        return
    if isinstance(value, list):
        for item in value:
            _xml_value(tag, item, "any", parts)
        return
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    parts.append(f"<{tag}>{escape(text)}</{tag}>")


def _xml_fields(mapping: Mapping[str, Any], class_name: str, parts: list[str]) -> None:
    _events, _arguments, all_fields = catalogue()
    kinds = {f[2]: f[3] for f in all_fields(class_name)}
    for key, value in mapping.items():
        _xml_value(key, value, kinds.get(key, "any"), parts)


def to_xml(event: Event) -> str:
    """The event as VSphereSource's XML payload (govmomi ``xml.Marshal``: lowerCamel elements).

    The inverse of the parser's XML reader: the root element is the class name, MoRefs are
    ``<host type="HostSystem">host-19</host>``, lists repeat their element, nil is left out.
    """
    class_name = type(event).__name__
    parts = [f'<{class_name} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    _xml_fields(to_dict(event, style="camel"), class_name, parts)
    parts.append(f"</{class_name}>")
    return "".join(parts)


def _is_horizon(event: Any) -> bool:
    return isinstance(event, HorizonEvent)


def _horizon_attributes(event: HorizonEvent, producer: str, source: str) -> dict[str, str]:
    """What the router's Horizon provider (``router``) or the appliance's Horizon source
    (``horizon-source``; ``vsphere-source`` means the same appliance) put on a Horizon event."""
    if producer not in (*PRODUCERS, "horizon-source"):
        raise ValueError(
            f"producer must be one of {', '.join(PRODUCERS)}, horizon-source, not {producer!r}"
        )
    lowered = (event.type or "").lower()
    if producer == "router":
        ce_type = HORIZON_ROUTER_PREFIX + lowered + TYPE_SUFFIX
    else:
        ce_type = HORIZON_SOURCE_PREFIX + lowered + TYPE_SUFFIX
    attributes = {"specversion": "1.0", "id": str(event.id), "source": source, "type": ce_type}
    if event.time is not None:
        # Both producers keep whole seconds: time.Unix(ms / 1000, 0).
        attributes["time"] = format_time(event.time.replace(microsecond=0))
    return attributes


def make_horizon_event(event_type: str, **overrides: Any) -> HorizonEvent:
    """A Horizon audit event as Horizon's REST API reports it, for tests of Horizon routes.

    Args:
        event_type: the Horizon event type (``"VLSI_USERLOGGEDIN_REST"``; a leading
            ``horizon.`` is dropped, the type upper-cased).
        **overrides: :class:`~veba_sdk.events.HorizonEvent` fields by name.

    Returns:
        The event: a random id, ``time`` now (UTC, milliseconds), severity ``INFO``, the module
        named by the type's first word, a pod machine, and a message naming the type.

    Raises:
        TypeError: an override names no field of HorizonEvent.
    """
    import attrs

    if event_type.startswith(HORIZON_NAME_PREFIX):
        event_type = event_type[len(HORIZON_NAME_PREFIX) :]
    event_type = event_type.upper()
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": random.randint(10_000, 99_999_999),
        "type": event_type,
        "severity": "INFO",
        "module": event_type.split("_", 1)[0].capitalize(),
        "message": f"{event_type} on horizon-01.corp.local",
        "time": now.replace(microsecond=now.microsecond // 1000 * 1000),
        "machine_dns_name": "horizon-01.corp.local",
    }
    known = {field.name for field in attrs.fields(HorizonEvent)}
    for key, value in overrides.items():
        if key not in known:
            raise TypeError(f"no field {key!r}; fields are: {', '.join(sorted(known))}")
        values[key] = value
    return HorizonEvent(**values)


def _attributes(event: Event | HorizonEvent, producer: str, source: str) -> dict[str, str]:
    if isinstance(event, HorizonEvent):
        return _horizon_attributes(event, producer, source)
    if producer not in PRODUCERS:
        raise ValueError(f"producer must be one of {', '.join(PRODUCERS)}, not {producer!r}")
    name = event_name(event)
    category = _category_of(event)
    created = getattr(event, "created_time", None) or datetime.now(UTC)
    attributes = {"specversion": "1.0"}
    if producer == "router":
        attributes.update(
            id=str(uuid.uuid4()),
            source=source,
            type=router_type(category),
            subject=name,
        )
    else:
        attributes.update(
            id=str(getattr(event, "key", None) or random.randint(10_000, 99_999_999)),
            source=source,
            type=vsphere_type(name),
            eventclass=category,
        )
    attributes["time"] = format_time(created)
    attributes["vsphereapiversion"] = VSPHERE_API_VERSION
    return attributes


def to_cloudevent(
    event: Event | HorizonEvent,
    producer: Producer = "router",
    mode: Mode = "binary",
    encoding: Encoding = "json",
    *,
    source: str = DEFAULT_SOURCE,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of the HTTP request a producer sends for ``event``.

    Args:
        event: a typed event (:func:`make_event`, or parsed).
        producer: ``"router"`` (event router v0.7+: ``type`` ``com.vmware.event.router/<category>``,
            name in ``subject``, random UUID ``id``) or ``"vsphere-source"`` (``type``
            ``com.vmware.vsphere.<name>.v0``, ``id`` = the event key, ``eventclass``).
        mode: ``"binary"`` (``ce-*`` headers) or ``"structured"``
            (``application/cloudevents+json``).
        encoding: ``"json"``, or ``"xml"`` (VSphereSource without ``payloadEncoding``).
        source: the vCenter SDK URL.

    Raises:
        ValueError: an unknown producer, mode or encoding, or XML from the event router
            (which only sends JSON).
    """

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    if encoding == "xml" and producer == "router":
        raise ValueError("the event router sends JSON only; XML comes from the VSphereSource")
    if encoding == "xml" and isinstance(event, HorizonEvent):
        raise ValueError("Horizon events are JSON from both producers")
    attributes = _attributes(event, producer, source)
    if encoding == "xml" and not isinstance(event, HorizonEvent):
        content_type = XML_MEDIA_TYPE
        data: Any = to_xml(event)
    else:
        content_type = JSON_MEDIA_TYPE
        data = _data(event)
    headers, body = encode_cloudevent(dict(attributes, datacontenttype=content_type), data, mode)
    if mode == "structured":  # the kit's structured requests name no charset (JSON is UTF-8)
        headers["content-type"] = STRUCTURED_MEDIA_TYPE
    return headers, body


def _structured(event: Event | HorizonEvent, source: str) -> dict[str, Any]:

    attributes: dict[str, Any] = _attributes(event, "router", source)
    attributes["datacontenttype"] = JSON_MEDIA_TYPE
    attributes["data"] = _data(event)
    return attributes


def _data(event: Any) -> Any:
    """The JSON data a producer sends for the event (Horizon: the AuditEventSummary)."""
    if _is_horizon(event):
        return event.to_dict()
    return to_dict(event, style="pascal")


def to_eventbridge(
    event: Event | HorizonEvent,
    *,
    source: str = DEFAULT_SOURCE,
    account: str = "123456789012",
    region: str = "us-west-1",
) -> dict[str, Any]:
    """The EventBridge event Lambda receives from VEBA's EventBridge processor.

    ``detail`` is the structured CloudEvent (the router format), ``detail-type`` its subject
    (the event name) and ``source`` the vCenter URL.
    """
    detail = _structured(event, source)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail.get("subject") or detail["type"],
        "source": source,
        "account": account,
        "time": detail["time"].split(".")[0].rstrip("Z") + "Z",
        "region": region,
        "resources": [],
        "detail": detail,
    }


def to_openfaas(event: Event | HorizonEvent, *, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    """The python3-http template's ``event`` for what VEBA's OpenFaaS processor posts.

    The body is the structured CloudEvent JSON (the router format) sent as plain
    ``application/json``: no CloudEvents content type, no ``ce-`` headers.
    """
    body = json.dumps(_structured(event, source), separators=(",", ":")).encode("utf-8")
    return {
        "body": body,
        "headers": {"Content-Type": JSON_MEDIA_TYPE, "Content-Length": str(len(body))},
        "method": "POST",
        "query": {},
        "path": "/",
    }


def send(
    url: str,
    event: Event | HorizonEvent,
    *,
    producer: str = "router",
    mode: str = "binary",
    encoding: str = "json",
    platform: str = "knative",
    source: str = DEFAULT_SOURCE,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
    auth: Any = None,
) -> httpx.Response:
    """POST ``event`` to a function as the chosen producer and platform deliver it.

    ``auth`` (a :class:`veba_sdk.auth.BasicAuth` or :class:`~veba_sdk.auth.HMACAuth`, or
    anything with ``sign(body) -> headers``) adds its credentials or signature.

    ``platform="openfaas"`` posts the structured JSON as VEBA's OpenFaaS processor does
    (``producer``, ``mode`` and ``encoding`` must then be the defaults); ``"knative"`` posts
    :func:`to_cloudevent`'s request. Returns the :class:`httpx.Response`.

    Raises:
        ValueError: an unknown platform, or options the platform never sends.
        MissingExtra: httpx is not installed (the ``vrops`` extra has it).
    """

    with needs_extra("vrops", "veba_sdk.testing.send"):
        import httpx

    if platform == "openfaas":
        if producer != "router" or encoding != "json":
            raise ValueError("VEBA's OpenFaaS processor sends the event router's JSON format only")
        request = to_openfaas(event, source=source)
        headers: dict[str, str] = {"content-type": JSON_MEDIA_TYPE}
        body: bytes = request["body"]
    elif platform == "knative":
        # The command line's strings: to_cloudevent checks them at run time.
        headers, body = to_cloudevent(
            event,
            cast(Producer, producer),
            cast(Mode, mode),
            cast(Encoding, encoding),
            source=source,
        )
    else:
        raise ValueError(f"platform must be 'knative' or 'openfaas', not {platform!r}")
    if auth is not None:
        headers = {**headers, **auth.sign(body)}
    if client is not None:
        return client.post(url, content=body, headers=headers)
    with httpx.Client(timeout=timeout) as own:
        return own.post(url, content=body, headers=headers)
