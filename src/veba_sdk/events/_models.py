"""Lazy factory of the event model classes, built from the generated catalogue.

Models are mutable slotted classes that speak attrs' protocol: ``attrs.fields``,
``attrs.has``, ``attrs.asdict`` and ``attrs.evolve`` work on them and on their instances, and
they behave as ``attrs.define`` classes do (keyword-only ``__init__`` for events, positional for
argument types, ``__eq__`` by class and field values, attrs' ``__repr__``, unhashable; the
ManagedObjectReference is hashable by value, as befits an identifier).

They are not built by attrs, because attrs spends ~1 ms on each class it creates (Attribute
objects, inherited copies, several generated methods) and most events have two or three
field-adding ancestors, while the first use of a class must stay under ~2 ms. Instead:

* each class gets its own ``__slots__`` and one generated ``__init__`` covering every inherited
  field, executed from source (one ``exec``, ~0.15 ms) the first time the class is instantiated
  or inspected, not when it is created (parsing fills the slots and never calls it);
* ``__eq__``, ``__ne__``, ``__repr__``, ``__getstate__``/``__setstate__`` and ``__hash__`` are
  written once, here, and set on the root of each hierarchy; they read the class's field names
  from ``__veba_fields__``;
* ``__attrs_attrs__`` (what attrs' functions read) is computed on first access, by attrs itself:
  a hidden twin of the class is created with ``attrs.make_class`` and its attributes returned.
  So attrs is imported only when something introspects a model with it, never on the parsing
  path.

Classes are created on first use, parents first, and cached. The static declarations type
checkers see are in ``_classes.py`` (generated, never imported at runtime).
"""

from __future__ import annotations

from _thread import get_ident
from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any

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
_MOREF_DOC = 'A vSphere managed object reference, e.g. ``("HostSystem", "host-19")``.'


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


# --- the methods every model shares, defined once ----------------------------------------------


class _Nothing:
    """Default of ``extra`` and ``class_name`` in signatures (attrs shows ``NOTHING`` too)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Any = _Nothing()
_repring: set[tuple[int, int]] = set()


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    get = self.__veba_values__
    return get(self) == get(other)


def _ne(self: Any, other: Any) -> Any:
    result = _eq(self, other)
    if result is NotImplemented:
        return NotImplemented
    return not result


def _repr(self: Any) -> str:
    key = (id(self), get_ident())
    if key in _repring:
        return "..."
    _repring.add(key)
    try:
        cls = self.__class__
        inner = ", ".join(f"{n}={getattr(self, n, NOTHING)!r}" for n in cls.__veba_fields__)
        return f"{cls.__qualname__.rsplit('>.', 1)[-1]}({inner})"
    finally:
        _repring.discard(key)


def _getstate(self: Any) -> dict[str, Any]:
    return {n: getattr(self, n) for n in self.__veba_fields__}


def _setstate(self: Any, state: Mapping[str, Any]) -> None:
    set_ = object.__setattr__
    for n in self.__veba_fields__:
        if n in state:
            set_(self, n, state[n])


def _class_name_default(self: Any) -> str:
    return type(self).__name__


def _moref_hash(self: Any) -> int:
    return hash((self.type, self.value, self.server_guid))


def _values_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda o: (one(o),)
    return lambda o: ()


class _AttrsAttributes:
    """``__attrs_attrs__`` of a model class, made by attrs on first access (see the module doc)."""

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        return _attrs_attributes(owner)


_attrs_cache: dict[type[Any], Any] = {}
_twins: dict[str, type[Any]] = {}


def _attrs_attributes(cls: type[Any]) -> Any:
    found = _attrs_cache.get(cls)
    if found is None:
        # The nearest model class in the MRO (a user's plain subclass inherits its fields).
        model = next(k for k in cls.__mro__ if _cache.get(k.__name__) is k)
        found = _twin(model.__name__).__attrs_attrs__
        _attrs_cache[cls] = found
    return found


def _twin(name: str) -> type[Any]:
    """The attrs class with the same fields as model ``name``, only for its metadata."""
    twin = _twins.get(name)
    if twin is not None:
        return twin
    import attrs

    if name == MANAGED_OBJECT_REFERENCE:
        twin = attrs.make_class(
            name,
            {"type": attrs.field(), "value": attrs.field(),
             "server_guid": attrs.field(default=None)},
            hash=True, slots=True,
        )  # fmt: skip
    else:
        is_event = name in EVENTS
        parent_name, _since, own = EVENTS[name] if is_event else ARGUMENTS[name]
        if own or parent_name is None:
            these: dict[str, Any] = {f[0]: attrs.field(default=None) for f in own}
            if name == "Event":
                these["extra"] = attrs.field(factory=dict)
                these["class_name"] = attrs.field(
                    default=attrs.Factory(_class_name_default, takes_self=True)
                )
            bases = (_twin(parent_name),) if parent_name is not None else (object,)
            twin = attrs.make_class(name, these, bases=bases, kw_only=is_event, slots=True)
        else:  # no own fields: the same attributes as the parent (a plain subclass in attrs)
            twin = _twin(parent_name)
    _twins[name] = twin
    return twin


# --- class creation ----------------------------------------------------------------------------


class _LazyInit:
    """A model's ``__init__``, generated the first time it is looked up.

    Parsing never calls ``__init__`` (the structuring code fills the slots), and creating a
    class with its ancestors must stay cheap, so the source of each ``__init__`` is only
    executed when the class is first instantiated or inspected; the real function then
    replaces this descriptor on the class.
    """

    __slots__ = ("fields", "kw_only", "name", "owner", "required")

    def __init__(self, name: str, fields: tuple[str, ...], required: int, kw_only: bool):
        self.name = name
        self.fields = fields
        self.required = required
        self.kw_only = kw_only
        self.owner: type[Any] | None = None

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        init = _init(self.name, self.fields, self.required, self.kw_only)
        if self.owner is not None:
            type.__setattr__(self.owner, "__init__", init)
        return init if instance is None else init.__get__(instance, owner)


def _init(name: str, fields: tuple[str, ...], required: int, kw_only: bool) -> Callable[..., None]:
    """One ``__init__`` setting every field; the first ``required`` fields have no default."""
    params = []
    body = []
    for i, n in enumerate(fields):
        if i < required:
            params.append(n)
            body.append(f"    self.{n} = {n}")
        elif n == "extra":
            params.append("extra=_N")
            body.append("    self.extra = {} if extra is _N else extra")
        elif n == "class_name":
            params.append("class_name=_N")
            body.append(
                "    self.class_name = self.__class__.__name__ if class_name is _N else class_name"
            )
        else:
            params.append(f"{n}=None")
            body.append(f"    self.{n} = {n}")
    star = "*, " if kw_only and params else ""
    source = f"def __init__(self, {star}{', '.join(params)}):\n"
    source += "\n".join(body or ["    pass"]) + "\n"
    namespace: dict[str, Any] = {"_N": NOTHING}
    # exec of the text, not compile(): the first compile() in a process costs ~1.4 ms more
    # (it builds the ast module's types to check whether its argument is an AST).
    exec(source, namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__annotations__ = {"return": None}
    init.__qualname__ = f"{name}.__init__"
    init.__module__ = MODULE
    return init


def _create(name: str) -> type[Any]:
    if name == MANAGED_OBJECT_REFERENCE:
        parent = None
        own: tuple[str, ...] = ("type", "value", "server_guid")
        doc = _MOREF_DOC
        is_event = False
    else:
        is_event = name in EVENTS
        parent_name, since, rows = EVENTS[name] if is_event else ARGUMENTS[name]
        parent = get_class(parent_name) if parent_name is not None else None
        own = tuple(f[0] for f in rows)
        if name == "Event":
            own += ("extra", "class_name")
        doc = f"vSphere ``{name}`` (since vSphere API {since})."
    ns: dict[str, Any] = {"__module__": MODULE, "__qualname__": name, "__doc__": doc}
    if parent is not None and not own:
        # No own fields: a plain slotted subclass inherits everything.
        ns["__slots__"] = ()
        cls = type(name, (parent,), ns)
    else:
        inherited: tuple[str, ...] = parent.__veba_fields__ if parent is not None else ()
        fields = inherited + own
        required = 2 if name == MANAGED_OBJECT_REFERENCE else 0
        ns["__slots__"] = own if parent is not None else (*own, "__weakref__")
        ns["__init__"] = init = _LazyInit(name, fields, required, is_event)
        ns["__veba_fields__"] = fields
        ns["__veba_values__"] = staticmethod(_values_getter(fields))
        ns["__match_args__"] = () if is_event else fields
        if parent is None:
            ns["__eq__"] = _eq
            ns["__ne__"] = _ne
            ns["__repr__"] = _repr
            ns["__getstate__"] = _getstate
            ns["__setstate__"] = _setstate
            ns["__hash__"] = _moref_hash if name == MANAGED_OBJECT_REFERENCE else None
            ns["__attrs_attrs__"] = _AttrsAttributes()
        cls = type(name, (parent or object,), ns)
        init.owner = cls
    _cache[name] = cls
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
