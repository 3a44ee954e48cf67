"""``parse_event``: vCenter event payloads to typed models (``to_dict`` is ``_dumper``).

Structuring follows the cattrs advice (rules live outside the models) and the attrs habit
(generate plain Python once, run it many times): this module decodes the payload (JSON through
``_codec``'s one backend, or XML) and picks the class; the structuring function compiled for
that class (``_structurers``) builds the event, calling the converters of ``_converters``.

Tolerance rules, the same for every field:

* missing, ``null`` and ``""`` are accepted everywhere; ``""`` stays ``""`` in string fields
  and becomes ``None`` elsewhere;
* a value of the wrong shape never fails the event: the field becomes ``None`` (or what could
  be read of it) and the raw value is kept in ``event.extra`` under its wire name, so
  ``to_dict`` gives it back unchanged;
* unknown keys are kept in ``event.extra`` under their wire names;
* deep polymorphic values (``ConfigSpec``, ``TaskInfo``, faults) stay plain mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import InvalidEvent
from ..wire import CLASS_FOR_CATEGORY, DEFAULT_MAX_BODY, JSON_MEDIA_TYPE
from . import _codec
from ._catalogue import EVENTS
from ._structurers import known_structurer, structurer_for

if TYPE_CHECKING:
    from ._classes import Event

__all__ = ["DEFAULT_MAX_SIZE", "known_structurer", "parse_event"]

#: The largest payload parse_event accepts by default: the largest body an adapter reads.
DEFAULT_MAX_SIZE = DEFAULT_MAX_BODY


def _nearest_base(name: str, category: str | None, d: Mapping[str, Any]) -> str:
    if category in CLASS_FOR_CATEGORY:
        return CLASS_FOR_CATEGORY[category]
    if "EventTypeId" in d or "eventTypeId" in d:
        return "ExtendedEvent" if ("ManagedObject" in d or "managedObject" in d) else "EventEx"
    if "." in name:
        return "EventEx"
    return "Event"


def _looks_like_xml(payload: bytes | str, content_type: str | None) -> bool:
    if content_type and "xml" in content_type.lower():
        return True
    head = payload[:64].lstrip()
    return head[:1] in (b"<", "<")


def _decode(payload: Any, content_type: str | None, max_size: int) -> tuple[Any, Any]:
    """``(mapping or None, XML root or None)`` from bytes, str or a mapping."""
    if isinstance(payload, (bytearray, memoryview)):
        payload = bytes(payload)
    if isinstance(payload, (bytes, str)):
        if len(payload) > max_size:
            raise InvalidEvent(f"payload is larger than {max_size} bytes", field="data")
        if not payload.strip():
            raise InvalidEvent("payload is empty", field="data")
        if _looks_like_xml(payload, content_type):
            from ._xml import parse_xml

            if isinstance(payload, bytes):
                try:
                    payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidEvent("XML payload is not valid UTF-8", field="data") from None
            return None, parse_xml(payload)
        try:
            data = _codec.decoder()(payload)
        except RecursionError:
            raise InvalidEvent("payload is nested too deeply", field="data") from None
        except UnicodeDecodeError:
            raise InvalidEvent("payload is not valid UTF-8", field="data") from None
        except (ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidEvent(f"payload is not valid JSON: {reason}", field="data") from None
    else:
        data = payload
    if data.__class__ is not dict:
        if isinstance(data, Mapping):
            data = dict(data)
        else:
            what = "null" if data is None else type(data).__name__
            raise InvalidEvent(f"payload must be a JSON object, not {what}", field="data")
    return data, None


def parse_event(
    payload: bytes | bytearray | memoryview | str | Mapping[str, Any],
    *,
    name: str | None = None,
    content_type: str | None = JSON_MEDIA_TYPE,
    category: str | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Event:
    """Parse one vCenter event payload into its typed model.

    Args:
        payload: JSON or XML as bytes or text, or an already decoded mapping. Every producer
            form is accepted: PascalCase JSON (legacy govmomi, base fields flattened),
            lowerCamel JSON (govmomi >= 0.31), JSON with ``_typeName``, and XML.
        name: the wire class name (``"EnteredMaintenanceModeEvent"``). When not given, the
            class comes from ``_typeName``, the XML root (its ``xsi:type`` or element name),
            else ``Event``. An unknown name becomes the nearest known base class (``EventEx``
            when ``category`` is ``"eventex"``, the payload has an ``EventTypeId`` or the name
            is dotted like an EventEx id; ``ExtendedEvent`` for ``"extendedevent"``; else
            ``Event``) and ``event.class_name`` keeps the name.
        content_type: the payload's media type; XML when it mentions ``xml`` (or the text
            starts with ``<``), JSON otherwise.
        category: the CloudEvent category (``event``, ``eventex``, ``extendedevent``), used
            only to choose the base class of an unknown name.
        max_size: the largest payload accepted, in bytes (characters for text).

    Returns:
        An instance of the event class (``isinstance(ev, HostEvent)`` works as in vSphere).

    Raises:
        InvalidEvent: the payload is not a decodable event; the message is one line naming
            the field. No other exception escapes.
    """
    try:
        # Fast paths: a decoded mapping (the HTTP decoder's case) or JSON object bytes naming a
        # known class (what every producer sends).
        if payload.__class__ is dict and name is not None:
            known = known_structurer(name)
            if known is not None:
                decoded: Event = known(payload, name)
                return decoded
        elif (
            payload.__class__ is bytes
            and payload[:1] == b"{"
            and len(payload) <= max_size
            and (content_type == JSON_MEDIA_TYPE or content_type is None)
        ):
            structure = known_structurer(name) if name is not None else None
            if structure is not None and name is not None:
                object_loads = _codec._object_loads
                if object_loads is None:
                    _codec.decoder()
                    object_loads = _codec._object_loads
                try:
                    data = object_loads(payload)  # type: ignore[misc]
                except Exception:  # the full path below reports it properly
                    data = None
                if data.__class__ is dict:
                    fast: Event = structure(data, name)
                    return fast
        return _parse(payload, name, content_type, category, max_size)
    except InvalidEvent:
        raise
    except RecursionError:
        raise InvalidEvent("payload is nested too deeply", field="data") from None
    except Exception as exc:  # a last guard: parse_event raises only InvalidEvent
        raise InvalidEvent(
            f"payload could not be parsed ({type(exc).__name__})", field="data"
        ) from None


def _parse(
    payload: Any,
    name: str | None,
    content_type: str | None,
    category: str | None,
    max_size: int,
) -> Event:
    data, xml = _decode(payload, content_type, max_size)
    if name is not None and not isinstance(name, str):
        raise InvalidEvent("event name must be a string", field="name")
    if xml is not None:
        root, named = xml
        wanted = name or named or "Event"
        target = wanted if wanted in EVENTS else _nearest_base(wanted, category, {})
        from ._xml import read_object

        data = read_object(root, target)
        if target != wanted and target == "Event":
            target = _nearest_base(wanted, category, data)
    else:
        wanted = name or data.get("_typeName") or "Event"
        if wanted.__class__ is not str:
            raise InvalidEvent("'_typeName' must be a string", field="_typeName")
        target = wanted if wanted in EVENTS else _nearest_base(wanted, category, data)
    event: Event = structurer_for(target, wanted)(data, wanted)
    return event
