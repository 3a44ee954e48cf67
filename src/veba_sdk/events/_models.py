"""Lazy factory of the event model classes, built from the generated catalogue.

Models are mutable slotted attrs classes (``attrs.define``); the ManagedObjectReference is
hashable by value, as befits an identifier. Creating all 443 attrs classes up front costs a
few hundred milliseconds, so each class is created on first use, parents first, and cached.
Classes that add no fields to their parent (most of the catalogue) are plain slotted
subclasses of it: they inherit the attrs-generated ``__init__``, ``__repr__`` and ``__eq__``
and cost a few microseconds to create. The static declarations type checkers see are in
``_classes.py`` (generated, never imported at runtime).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._catalogue import ARGUMENTS, EVENTS, MANAGED_OBJECT_REFERENCE, Field

if TYPE_CHECKING:
    from ._classes import Event

__all__ = [
    "EVENT_CLASSES",
    "all_fields",
    "ancestors",
    "event_class_names",
    "get_class",
    "is_event_class",
    "is_model_name",
]

MODULE = "veba_sdk.events"
_cache: dict[str, type[Any]] = {}
_fields_cache: dict[str, tuple[Field, ...]] = {}
_SORTED_NAMES = tuple(sorted(EVENTS))


def is_event_class(name: str) -> bool:
    """Whether ``name`` is the wire name of one of the 443 vCenter event classes."""
    return name in EVENTS


def is_model_name(name: str) -> bool:
    """Whether ``name`` names a model class: an event, an argument type or the MoRef."""
    return name in EVENTS or name in ARGUMENTS or name == MANAGED_OBJECT_REFERENCE


def event_class_names() -> tuple[str, ...]:
    """The wire names of every event class, sorted."""
    return _SORTED_NAMES


def ancestors(name: str) -> tuple[str, ...]:
    """The class and its bases up to ``Event``, read from the catalogue (no class is created).

    ``ancestors("DrsVmPoweredOnEvent")`` is
    ``("DrsVmPoweredOnEvent", "VmPoweredOnEvent", "VmEvent", "Event")``.
    Raises :class:`KeyError` for a name that is not an event class.
    """
    row = EVENTS[name]
    chain = [name]
    parent = row[0]
    while parent is not None:
        chain.append(parent)
        parent = EVENTS[parent][0]
    return tuple(chain)


def all_fields(name: str) -> tuple[Field, ...]:
    """Every field row of a model class, inherited ones first (as govmomi flattens them)."""
    fields = _fields_cache.get(name)
    if fields is None:
        table = EVENTS if name in EVENTS else ARGUMENTS
        parent, _since, own = table[name]
        fields = (all_fields(parent) if parent is not None else ()) + own
        _fields_cache[name] = fields
    return fields


def get_class(name: str) -> type[Any]:
    """The model class for a wire name, created on first use. :class:`KeyError` if unknown."""
    cls = _cache.get(name)
    if cls is None:
        cls = _create(name)
    return cls


def _class_name_default(self: Any) -> str:
    return type(self).__name__


def _create(name: str) -> type[Any]:
    if name == MANAGED_OBJECT_REFERENCE:
        cls = _create_moref()
    else:
        is_event = name in EVENTS
        parent_name, since, own = EVENTS[name] if is_event else ARGUMENTS[name]
        parent = get_class(parent_name) if parent_name is not None else None
        doc = f"vSphere ``{name}`` (since vSphere API {since})."
        if own or parent is None:
            these: dict[str, Any] = {f[0]: attrs.field(default=None) for f in own}
            if name == "Event":
                these["extra"] = attrs.field(factory=dict)
                these["class_name"] = attrs.field(
                    default=attrs.Factory(_class_name_default, takes_self=True)
                )
            cls = attrs.make_class(
                name,
                these,
                bases=(parent,) if parent is not None else (object,),
                # Mutable slotted classes: building one is several times cheaper than a
                # frozen one (docs/performance.md, "Event parsing"), and parsing builds many.
                kw_only=is_event,
                slots=True,
            )
            cls.__doc__ = doc
        else:
            # No own fields: a plain slotted subclass inherits everything attrs generated.
            cls = type(name, (parent,), {"__slots__": (), "__doc__": doc})
        cls.__module__ = MODULE
        cls.__qualname__ = name
    _cache[name] = cls
    return cls


def _create_moref() -> type[Any]:
    cls = attrs.make_class(
        MANAGED_OBJECT_REFERENCE,
        {
            "type": attrs.field(),
            "value": attrs.field(),
            "server_guid": attrs.field(default=None),
        },
        # Not frozen: parsing builds several per event and a frozen class costs ~3x more to
        # fill. Hashable by value all the same (treat it as immutable), so it can key a dict.
        hash=True,  # make_class's spelling of define(unsafe_hash=True)
        slots=True,
    )
    cls.__doc__ = 'A vSphere managed object reference, e.g. ``("HostSystem", "host-19")``.'
    cls.__module__ = MODULE
    return cls


class _EventClasses(Mapping[str, "type[Event]"]):
    """Read-only mapping of the 443 event wire names to their classes, created on access."""

    __slots__ = ()

    def __getitem__(self, name: str) -> type[Event]:
        if name not in EVENTS:
            raise KeyError(name)
        return get_class(name)

    def __iter__(self) -> Iterator[str]:
        return iter(_SORTED_NAMES)

    def __len__(self) -> int:
        return len(EVENTS)

    def __contains__(self, name: object) -> bool:
        return name in EVENTS

    def __repr__(self) -> str:
        return f"<EVENT_CLASSES: {len(EVENTS)} vCenter event classes>"


EVENT_CLASSES: Mapping[str, type[Event]] = _EventClasses()
"""Every vCenter event class by wire name (443); classes are created on first access."""
