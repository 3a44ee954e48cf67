"""Routes: what a pattern given to :meth:`veba_sdk.Router.on` selects, and which handler runs.

Route kinds:

* ``"VmPoweredOnEvent"``, ``VmPoweredOnEvent`` (a model class) or ``"class:VmPoweredOnEvent"``:
  the class and every subclass (vCenter sends ``DrsVmPoweredOnEvent`` in its place in DRS
  clusters); ``exact=True`` asks for that name only;
* ``"Vm*Event"``, ``"*"``: a glob on the event name;
* ``"com.vmware.vc.HA.*"``, ``"esx.problem.net.vmnic.linkstate.down"``: EventEx/ExtendedEvent
  type ids, exact or glob (a dot marks a type id: class names never have one);
* ``"horizon.VLSI_USERLOGGEDIN_REST"``, ``"horizon.*"``: Horizon events by their Horizon type;
* :meth:`Router.on_type` ``("com.example.*")``: any CloudEvent by its ``type``, the handler
  getting the raw data.

vCenter routes select vCenter events only, Horizon routes Horizon events only; type routes
select any event whose CloudEvent ``type`` matches.

Names, type ids and globs are checked against the catalogues when registered (a misspelling is
a :class:`RouteError` with suggestions, :func:`suggest_name`); ``uncatalogued=True`` routes on a
name no catalogued vCenter release defines (a newer vCenter's id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from ._errors import RouteError
from .events import ancestors, event_class_names, is_event_class
from .events.type_ids import check_type_id_route, is_type_id
from .wire import HORIZON_NAME_PREFIX

# inspect and difflib are imported where used: a Lambda cold start needs neither.

__all__ = [
    "H",
    "Handler",
    "Pattern",
    "Predicate",
    "Route",
    "both",
    "classify",
    "classify_type",
    "subscribed_names",
    "suggest_name",
]

Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)
Predicate = Callable[[Any], bool]
Pattern = str | type

_GLOB_CHARS = frozenset("*?[")
_TYPE_KINDS = frozenset({"type", "type-glob"})
_HORIZON_KINDS = frozenset({"horizon", "horizon-glob"})
_HORIZON_TYPE = re.compile(r"[A-Z0-9_*?\[\]!-]+")


class Route:
    """One registered route: a pattern, a handler and an optional ``where`` filter.

    Attributes:
        pattern: the name, glob or type id as given (a class is kept as its wire name).
        kind: ``"exact"``, ``"class"``, ``"glob"``, ``"typeid"``, ``"typeid-glob"``,
            ``"horizon"``, ``"horizon-glob"``, ``"type"``, ``"type-glob"``.
        handler: the user's function.
        where: an optional predicate on the typed event.
        order: registration order within the router tree.
    """

    __slots__ = (
        "handler",
        "is_async",
        "kind",
        "name",
        "order",
        "pass_context",
        "pattern",
        "raw",
        "where",
    )

    def __init__(
        self, pattern: str, kind: str, handler: Handler, where: Predicate | None, order: int
    ) -> None:
        self.pattern = pattern
        self.kind = kind
        self.handler = handler
        self.where = where
        self.order = order
        self.is_async = _is_async(handler)
        self.pass_context = _takes_context(handler)
        #: the handler takes the raw data (a type route), not the typed event
        self.raw = kind in _TYPE_KINDS
        #: the handler's qualified name, as reported in :class:`DispatchResult`
        self.name: str = getattr(handler, "__qualname__", None) or repr(handler)

    def matches(self, name: str, category: str, class_name: str, ce_type: str = "") -> bool:
        """Whether this route selects an event (before the ``where`` filter).

        ``ce_type`` is the CloudEvent ``type``, which type routes match (for a
        ``"cloudevent"``, its name is its type).
        """
        kind = self.kind
        if kind in _TYPE_KINDS:
            ce_type = ce_type or (name if category == "cloudevent" else "")
            if kind == "type":
                return ce_type == self.pattern
            return fnmatchcase(ce_type, self.pattern)
        if category == "horizon":
            if kind == "horizon":
                return name == self.pattern
            return kind == "horizon-glob" and fnmatchcase(name, self.pattern)
        if category == "cloudevent" or kind in _HORIZON_KINDS:
            return False
        if kind == "exact" or kind == "typeid":
            return name == self.pattern
        if kind == "class":
            try:
                return self.pattern in ancestors(class_name)
            except KeyError:
                return self.pattern == "Event"
        return fnmatchcase(name, self.pattern)

    def __repr__(self) -> str:
        where = ", where=..." if self.where else ""
        return f"Route({self.pattern!r}, kind={self.kind!r}, handler={self.name}{where})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Route):
            return NotImplemented
        return (self.pattern, self.kind, self.handler, self.where) == (
            other.pattern,
            other.kind,
            other.handler,
            other.where,
        )

    __hash__ = None  # type: ignore[assignment]


def _is_async(handler: Handler) -> bool:
    import functools
    import inspect

    target = handler
    while isinstance(target, functools.partial):
        target = target.func
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    )


def _takes_context(handler: Handler) -> bool:
    """Handlers take ``(event)`` or ``(event, ctx)``; decide once, at registration."""
    import inspect

    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return True
    positional = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            positional += 1
    if positional == 0:
        raise RouteError(f"handler {handler!r} must take (event) or (event, ctx)")
    return positional >= 2


def suggest_name(name: str) -> str:
    """``"; did you mean 'X' or 'Y'?"`` for a misspelt vCenter event class name, else ``""``."""
    import difflib

    names = event_class_names()
    candidates = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not candidates and is_event_class(name + "Event"):
        candidates = [name + "Event"]
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered and lowered[name.lower()] not in candidates:
        candidates.insert(0, lowered[name.lower()])
    if candidates:
        return "; did you mean " + " or ".join(repr(c) for c in candidates) + "?"
    return ""


def classify(
    pattern: Pattern, *, exact: bool = False, uncatalogued: bool = False
) -> tuple[str, str]:
    """``(pattern, kind)`` for a user's route, or :class:`RouteError`."""
    class_kind = "exact" if exact else "class"
    if isinstance(pattern, type):
        name = pattern.__name__
        if not is_event_class(name):
            raise RouteError(f"{pattern!r} is not a vCenter event class")
        return name, class_kind
    if not isinstance(pattern, str) or not pattern:
        raise RouteError(f"a route is an event name, glob, type id or class, not {pattern!r}")
    if pattern.startswith("class:"):
        name = pattern[len("class:") :]
        if not is_event_class(name):
            raise RouteError(f"{name!r} is not a vCenter event class{suggest_name(name)}")
        return name, class_kind
    is_glob = not _GLOB_CHARS.isdisjoint(pattern)
    if pattern.startswith(HORIZON_NAME_PREFIX):
        return _horizon_route(pattern, is_glob)
    if "." in pattern:
        if not uncatalogued:
            check_type_id_route(pattern, is_glob)
        return pattern, "typeid-glob" if is_glob else "typeid"
    if is_glob:
        if not uncatalogued and not any(fnmatchcase(n, pattern) for n in event_class_names()):
            raise RouteError(f"glob {pattern!r} matches no vCenter event class")
        return pattern, "glob"
    if is_event_class(pattern):
        return pattern, class_kind
    if uncatalogued:
        return pattern, "exact"
    if is_type_id(pattern):  # the few dotless ExtendedEvent ids ("53001")
        return pattern, "typeid"
    raise RouteError(
        f"{pattern!r} is not a vCenter event class{suggest_name(pattern)}"
        " (a name no catalogued vCenter release defines: on(..., uncatalogued=True))"
    )


def classify_type(pattern: str) -> tuple[str, str]:
    """``(pattern, kind)`` for a :meth:`~veba_sdk.Router.on_type` route, or :class:`RouteError`."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise RouteError(f"a type route is a CloudEvent type or glob, not {pattern!r}")
    return pattern, "type" if _GLOB_CHARS.isdisjoint(pattern) else "type-glob"


def _horizon_route(pattern: str, is_glob: bool) -> tuple[str, str]:
    """A Horizon route, its type upper-cased as Horizon spells types (the CloudEvent types
    carry them lower-cased)."""
    event_type = pattern[len(HORIZON_NAME_PREFIX) :].upper()
    if not _HORIZON_TYPE.fullmatch(event_type):
        raise RouteError(
            f"{pattern!r} is no Horizon event route: 'horizon.' and a Horizon event type "
            "(letters, digits and underscores, e.g. 'horizon.VLSI_USERLOGGEDIN_REST'), or a glob"
        )
    return HORIZON_NAME_PREFIX + event_type, "horizon-glob" if is_glob else "horizon"


def both(first: Predicate, second: Predicate | None) -> Predicate:
    """A ``where`` filter accepting what both accept (``second`` may be absent)."""
    if second is None:
        return first
    return lambda event: first(event) and second(event)


def subscribed_names(
    routes: Iterable[Route], everything: bool
) -> tuple[list[str], list[str], bool]:
    """:meth:`veba_sdk.Router.subscribed_names` of some routes (``everything``: a default
    handler exists)."""
    names: set[str] = set()
    type_ids: list[str] = []
    all_names = event_class_names()
    for route in routes:
        if route.kind == "exact":
            names.add(route.pattern)
        elif route.kind == "class":
            names.update(n for n in all_names if route.pattern in ancestors(n))
        elif route.kind == "glob":
            if route.pattern == "*":
                everything = True
            names.update(n for n in all_names if fnmatchcase(n, route.pattern))
        elif route.kind in ("typeid", "typeid-glob") and route.pattern not in type_ids:
            type_ids.append(route.pattern)
    return sorted(names), type_ids, everything
