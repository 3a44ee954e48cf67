"""One CloudEvent from any VEBA producer, normalised.

Three envelope shapes reach a function (see the design notes, section 1):

* event router v0.5-v0.8: ``type`` is ``com.vmware.event.router/<category>`` and the event
  name (class name, or the EventEx/ExtendedEvent type id) is in ``subject``;
* appliance v0.8+ VSphereSource: ``type`` is ``com.vmware.vsphere.<name>.v0``, the category is
  in the ``eventclass`` extension and ``id`` is the vCenter event key.

:func:`from_cloudevent` turns any of them into an :class:`Envelope` carrying the normalised
name, category, producer, every attribute and the typed event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import InvalidEvent
from ..wire import (
    CATEGORIES,
    CLASS_FOR_CATEGORY,
    HORIZON_ROUTER_PREFIX,
    JSON_MEDIA_TYPE,
    MAX_NAME,
    OTHER_CATEGORIES,
    PRODUCERS,
    ROUTER_TYPE_PREFIX,
    SPEC_VERSIONS,
    TYPE_SUFFIX,
    VSPHERE_TYPE_PREFIX,
)
from ._codec import decode_data, is_xml, loads_json
from ._models import is_event_class
from ._parser import known_structurer, parse_event

if TYPE_CHECKING:
    from ._classes import Event

__all__ = [
    "CATEGORIES",
    "MAX_NAME",
    "OTHER_CATEGORIES",
    "PRODUCERS",
    "SPEC_VERSIONS",
    "Envelope",
    "from_cloudevent",
    "split_type",
]

# CATEGORIES, MAX_NAME, OTHER_CATEGORIES, PRODUCERS and SPEC_VERSIONS are veba_sdk.wire's,
# importable from here as before. Other categories' events (Horizon's, typed as
# ``HorizonEvent``, and any other CloudEvent, whose ``event`` is the raw data) are not vCenter's.
_NOT_VCENTER = frozenset(OTHER_CATEGORIES)
_REQUIRED = ("specversion", "id", "source", "type")


class Envelope:
    """A decoded VEBA CloudEvent: who sent it, what it is, and the typed event.

    Attributes:
        name: the vCenter class name (``"EnteredMaintenanceModeEvent"``) or, for EventEx and
            ExtendedEvent, the event type id (``"com.vmware.vc.HA.HostFailedEvent"``); for a
            Horizon event ``"horizon."`` and its type (``"horizon.VLSI_USERLOGGEDIN_REST"``);
            for any other CloudEvent its ``type``.
        category: ``"event"``, ``"eventex"``, ``"extendedevent"``, ``"horizon"`` or
            ``"cloudevent"`` (neither vCenter's nor Horizon's: a webhook event...).
        producer: ``"router"`` (event router v0.5-v0.8), ``"vsphere-source"`` (VSphereSource),
            ``"horizon-source"`` (the appliance's Horizon source) or ``"cloudevent"``.
        attributes: every CloudEvent context attribute and extension, as sent.
        data: the raw payload: the decoded JSON value, text (XML, ``text/*``), or bytes.
        event: the typed event model (a :class:`~veba_sdk.events.HorizonEvent` for Horizon);
            for a ``"cloudevent"``, the raw data.
    """

    # A plain slotted class rather than attrs: it is built once per request on the hot path.
    __slots__ = ("attributes", "category", "data", "event", "name", "producer")

    def __init__(
        self,
        *,
        name: str,
        category: str,
        producer: str,
        attributes: dict[str, Any],
        data: Any,
        event: Event,
    ) -> None:
        self.name = name
        self.category = category
        self.producer = producer
        self.attributes = attributes
        self.data = data
        self.event = event

    @property
    def id(self) -> str:
        """The CloudEvent ``id``."""
        return str(self.attributes["id"])

    @property
    def source(self) -> str:
        """The CloudEvent ``source`` (the vCenter SDK URL)."""
        return str(self.attributes["source"])

    @property
    def type(self) -> str:
        """The CloudEvent ``type`` as the producer sent it."""
        return str(self.attributes["type"])

    def __repr__(self) -> str:
        return (
            f"Envelope(name={self.name!r}, category={self.category!r}, "
            f"producer={self.producer!r}, id={self.attributes.get('id')!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return (
            self.name == other.name
            and self.category == other.category
            and self.producer == other.producer
            and self.attributes == other.attributes
            and self.event == other.event
        )

    __hash__ = None  # type: ignore[assignment]  # mutable mapping inside: not hashable


# split_type's answers by (type, eventclass, subject), the only attributes it reads: a few
# distinct events reach a function, each many times. Bounded, as the values come from the wire.
_SPLIT: dict[tuple[Any, Any, Any], tuple[str, str, str]] = {}
_MAX_SPLIT = 1024
_MAX_KEPT = MAX_NAME + len(VSPHERE_TYPE_PREFIX) + len(TYPE_SUFFIX)


def split_type(attributes: Mapping[str, Any]) -> tuple[str, str, str]:
    """Return ``(name, category, producer)`` from CloudEvent attributes.

    Raises:
        InvalidEvent: the ``type`` names no vCenter event.
    """
    key = (attributes.get("type"), attributes.get("eventclass"), attributes.get("subject"))
    try:
        known = _SPLIT.get(key)
    except TypeError:  # an unhashable value (from_cloudevent takes any mapping)
        return _split_type(attributes)
    if known is None:
        known = _split_type(attributes)
        # The name is bounded by now, but not what the key holds beside it (a VSphereSource
        # event's subject, a router event's eventclass): keep only keys of short values.
        if _keepable(key[0]) and _keepable(key[1]) and _keepable(key[2]):
            if len(_SPLIT) >= _MAX_SPLIT:
                _SPLIT.clear()
            _SPLIT[key] = known
    return known


def _keepable(value: Any) -> bool:
    return value is None or (value.__class__ is str and len(value) <= _MAX_KEPT)


def _split_type(attributes: Mapping[str, Any]) -> tuple[str, str, str]:
    ce_type = attributes.get("type")
    if not isinstance(ce_type, str) or not ce_type:
        raise InvalidEvent("missing required attribute 'type'", field="type")
    if ce_type.startswith(ROUTER_TYPE_PREFIX):
        category = ce_type[len(ROUTER_TYPE_PREFIX) :]
        if category not in CATEGORIES:
            return _not_vcenter(ce_type)
        subject = attributes.get("subject")
        if not isinstance(subject, str) or not subject:
            raise InvalidEvent(
                f"attribute 'subject' is required with type {ce_type!r}", field="subject"
            )
        if len(subject) > MAX_NAME:
            raise _too_long("subject", len(subject))
        return subject, category, "router"
    if ce_type.startswith(VSPHERE_TYPE_PREFIX) and ce_type.endswith(TYPE_SUFFIX):
        # Never split on dots: EventEx ids are dotted themselves.
        name = ce_type[len(VSPHERE_TYPE_PREFIX) : -len(TYPE_SUFFIX)]
        if not name:
            raise InvalidEvent(f"type {ce_type!r} names no vCenter event", field="type")
        if len(name) > MAX_NAME:
            raise _too_long("type", len(name))
        eventclass = attributes.get("eventclass")
        if eventclass in CATEGORIES:
            category = str(eventclass)
        else:
            if eventclass is not None:
                raise InvalidEvent(
                    f"extension 'eventclass' must be one of {', '.join(CATEGORIES)}",
                    field="eventclass",
                )
            category = _category_without_eventclass(name)
        return name, category, "vsphere-source"
    return _not_vcenter(ce_type)


def _category_without_eventclass(name: str) -> str:
    """The category of a VSphereSource event sent without ``eventclass``: a class name is an
    ``event``, a dotted name an ``eventex``; a dotless type id (``53001``) the kind the
    catalogue gives it."""
    if is_event_class(name):
        return "event"
    if "." in name:
        return "eventex"
    from .type_ids import type_id_info

    info = type_id_info(name)
    return "event" if info is None else info.kind.lower()


def _not_vcenter(ce_type: str) -> tuple[str, str, str]:
    """A Horizon event (``horizon.<TYPE>``), or any other CloudEvent, named by its type."""
    from .horizon import horizon_name

    if len(ce_type) > MAX_NAME:
        raise _too_long("type", len(ce_type))
    name = horizon_name(ce_type)
    if name is not None:
        producer = "router" if ce_type.startswith(HORIZON_ROUTER_PREFIX) else "horizon-source"
        return name, "horizon", producer
    return ce_type, "cloudevent", "cloudevent"


def _too_long(field: str, length: int) -> InvalidEvent:
    return InvalidEvent(
        f"the event name in '{field}' is {length} characters, over the {MAX_NAME} character limit",
        field=field,
    )


def check_required(attributes: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidEvent` unless the required CloudEvent attributes are present
    and ``specversion`` is one the ``cloudevents`` SDK accepts (:data:`SPEC_VERSIONS`)."""
    for key in _REQUIRED:
        value = attributes.get(key)
        if not isinstance(value, str) or not value:
            raise InvalidEvent(f"missing required attribute {key!r}", field=key)
    version = attributes["specversion"]
    if version != "1.0" and version != "0.3":  # SPEC_VERSIONS, spelled out: no tuple scan
        raise InvalidEvent(
            f"specversion {version[:20]!r} is not supported (only {' or '.join(SPEC_VERSIONS)})",
            field="specversion",
        )


def build_envelope(attributes: dict[str, Any], data: Any, content_type: str | None) -> Envelope:
    """Build an :class:`Envelope` from checked attributes and raw data (bytes, str or mapping)."""
    name, category, producer = split_type(attributes)
    if category in _NOT_VCENTER:
        return _other_envelope(name, category, producer, attributes, data, content_type)
    class_name = CLASS_FOR_CATEGORY.get(category, name)
    if data.__class__ is bytes and (content_type == JSON_MEDIA_TYPE or content_type is None):
        # The usual binary-mode body: what decode_data does for JSON, minus the media-type work.
        if not data:
            raise InvalidEvent("the event has no data", field="data")
        data = loads_json(data, "data")
    elif data is None or data == b"" or data == "":
        raise InvalidEvent("the event has no data", field="data")
    elif isinstance(data, (bytes, bytearray, memoryview, str)):
        data = decode_data(data, content_type)
    structure = known_structurer(class_name)
    if structure is not None and data.__class__ is dict:
        # parse_event's own fast path, without its call: this runs once per request.
        try:
            event = structure(data, class_name)
        except Exception:  # parse_event says what is wrong with it
            event = _parse(data, class_name, category, content_type)
    else:
        event = _parse(data, class_name, category, content_type)
    # What Envelope(...) does, without the keyword call.
    envelope = _new(Envelope)
    envelope.name = name
    envelope.category = category
    envelope.producer = producer
    envelope.attributes = attributes
    envelope.data = data
    envelope.event = event
    return envelope


def _other_envelope(
    name: str,
    category: str,
    producer: str,
    attributes: dict[str, Any],
    data: Any,
    content_type: str | None,
) -> Envelope:
    """The envelope of a Horizon event (typed) or of any other CloudEvent (its raw data)."""
    data = raw_data(data, content_type)
    if category == "horizon":
        from .horizon import parse_horizon

        event: Any = parse_horizon(data)
    else:
        event = data
    envelope = _new(Envelope)
    envelope.name = name
    envelope.category = category
    envelope.producer = producer
    envelope.attributes = attributes
    envelope.data = data
    envelope.event = event
    return envelope


def raw_data(data: Any, content_type: str | None) -> Any:
    """A CloudEvent's data as a handler wants it: JSON decoded (a JSON media type, or none
    given and the bytes parse), text for ``text/*`` and XML, other bytes as they came,
    ``None`` when there is none.

    Raises:
        InvalidEvent: data declared JSON that does not parse, or text that is not UTF-8.
    """
    if data is None or data == b"" or data == "":
        return None
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        return data  # structured mode: already decoded
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not media:
        try:
            return loads_json(data, "data")
        except InvalidEvent:
            media = "application/octet-stream" if not isinstance(data, str) else "text/plain"
    if media == JSON_MEDIA_TYPE or media.endswith("+json"):
        return loads_json(data, "data")
    if media.startswith("text/") or is_xml(media):
        if isinstance(data, str):
            return data
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("data is not valid UTF-8", field="data") from None
    return data if isinstance(data, str) else bytes(data)


def _parse(data: Any, class_name: str, category: str, content_type: str | None) -> Event:
    return parse_event(
        data, name=class_name, category=category, content_type=content_type or JSON_MEDIA_TYPE
    )


_new = object.__new__


def _attributes_of_sdk_event(event: Any) -> tuple[dict[str, Any], Any]:
    """Attributes and data of a ``cloudevents`` SDK event, 1.x or 2.x."""
    get_attributes = getattr(event, "get_attributes", None)
    if callable(get_attributes):
        attributes = {str(k): _attribute_text(v) for k, v in dict(get_attributes()).items()}
        # 2.x keeps extensions apart from the core attributes.
        get_extensions = getattr(event, "get_extensions", None)
        if callable(get_extensions):
            attributes.update({str(k): _attribute_text(v) for k, v in get_extensions().items()})
        get_data = getattr(event, "get_data", None)
        data = get_data() if callable(get_data) else getattr(event, "data", None)
        return attributes, data
    raise InvalidEvent("not a CloudEvent")


def _attribute_text(value: Any) -> Any:
    """CloudEvent attributes as their canonical strings (the SDKs hold datetimes)."""
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        text = str(isoformat())
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value


def from_cloudevent(attributes: Any, data: Any = None) -> Envelope:
    """Normalise one CloudEvent from any VEBA producer into an :class:`Envelope`.

    Args:
        attributes: the context attributes and extensions as a mapping, or a ``cloudevents``
            SDK event object (1.x or 2.x), in which case ``data`` is taken from it.
        data: the event data: a decoded JSON mapping, JSON or XML as ``bytes``/``str``.

    Raises:
        InvalidEvent: the input is not a decodable vCenter event; the message is one line.
    """
    if not isinstance(attributes, Mapping):
        attributes, data = _attributes_of_sdk_event(attributes)
    attrs = dict(attributes)
    content_type = attrs.get("datacontenttype")
    check_required(attrs)
    return build_envelope(attrs, data, content_type if isinstance(content_type, str) else None)
