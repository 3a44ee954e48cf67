"""What a router subscribes to, as producer-independent selectors.

Every manifest generator (Knative Triggers, OpenFaaS topics, the EventBridge pattern) starts
from the same list of :class:`Selector` objects, built here from the router's routes:

* exact, class and glob routes expand through the catalogue to concrete class names (one
  selector each, category ``event``);
* a class route that covers ``EventEx`` or ``ExtendedEvent`` (``@router.on(Event)``) selects
  every event of that category, whatever its type id;
* a class-name glob with wildcards (``"*Event"``) also matches EventEx/ExtendedEvent type ids at
  dispatch (the router globs the event *name*), so it adds a type-id selector for those
  categories;
* EventEx/ExtendedEvent type ids and type-id globs are kept as given (any category);
* ``"*"`` selects every vCenter event: one selector of all three categories;
* Horizon routes (``"horizon.VLSI_*"``) give selectors of kind ``horizon`` on the Horizon event
  name, type routes (``on_type("com.example.*")``) selectors of kind ``type`` on the CloudEvent
  ``type``; :func:`horizon_type` is the ``type`` each Horizon producer sends;
* a default handler means everything: one selector without constraints.

Not every platform can deliver every kind: :func:`unsubscribed_routes` says which routes a
platform's manifests leave out, and why.

Selectors a broader one already covers are dropped, and :func:`disjoint` tells generators which
earlier selectors may overlap a later one, so a platform that fans out per rule (one Knative
Trigger per selector) never delivers one event twice.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

import attrs

from .._errors import VebaError
from ..wire import (
    CATEGORIES,
    CATEGORY_FOR_CLASS,
    HORIZON_NAME_PREFIX,
    HORIZON_ROUTER_PREFIX,
    HORIZON_SOURCE_PREFIX,
    TYPE_SUFFIX,
    router_type,
    vsphere_type,
)

if TYPE_CHECKING:
    from .._router import Router

__all__ = [
    "CATEGORIES",
    "HORIZON_PRODUCERS",
    "KINDS",
    "ManifestError",
    "Selector",
    "disjoint",
    "glob_parts",
    "horizon_type",
    "names_may_overlap",
    "selectors_for",
    "subscribable",
    "unsubscribed_routes",
]

_TYPE_ID_CATEGORIES = tuple(CATEGORY_FOR_CLASS.values())
_GLOB_CHARS = frozenset("*?[")
#: What a selector selects on: a vCenter event's name and category, a Horizon event's name
#: (``horizon.<TYPE>``), or any CloudEvent's ``type``.
KINDS = ("vcenter", "horizon", "type")
#: Who sends Horizon events: the event router's Horizon provider (v0.7+) and the appliance's
#: HorizonSource (v0.8+, sources-for-knative).
HORIZON_PRODUCERS = ("router", "horizon-source")
_HORIZON_TYPE_PREFIXES = {
    "router": HORIZON_ROUTER_PREFIX,
    "horizon-source": HORIZON_SOURCE_PREFIX,
}
_VCENTER_TYPES = (
    *((router_type(category), False) for category in CATEGORIES),
    (vsphere_type("*"), True),
)
_ROUTE_KINDS = {
    "horizon": "horizon",
    "horizon-glob": "horizon",
    "type": "type",
    "type-glob": "type",
}


class ManifestError(VebaError):
    """The routes cannot be expressed for the chosen platform; the message is one line."""


@attrs.frozen(order=True)
class Selector:
    """One subscription: a constraint on the event name and one on its category.

    Attributes:
        label: a readable name for the subscription (used to name Triggers).
        name: the exact name or glob the event name must match; ``None`` for any name. For
            kind ``horizon`` the Horizon event name (``horizon.VLSI_USERLOGGEDIN_REST``), for
            kind ``type`` the CloudEvent ``type``.
        glob: whether ``name`` is a glob (``*``, ``?``, ``[...]``).
        categories: the vCenter categories accepted; ``None`` for any.
        kind: ``vcenter``, ``horizon`` or ``type`` (:data:`KINDS`).
    """

    label: str
    name: str | None = None
    glob: bool = False
    categories: tuple[str, ...] | None = None
    kind: str = "vcenter"

    @property
    def everything(self) -> bool:
        """Whether this selector accepts every event."""
        return self.kind == "vcenter" and self.name is None and self.categories is None

    def matches(self, name: str, category: str, ce_type: str = "") -> bool:
        """Whether an event of this name, category and CloudEvent ``type`` is selected (the
        reference semantics; ``category`` is ``horizon`` or ``cloudevent`` for events that are
        not vCenter's)."""
        if self.everything:
            return True
        if self.kind == "type":
            return _name_matches(ce_type or name, self.name, self.glob)
        if self.kind == "horizon":
            return category == "horizon" and _name_matches(name, self.name, self.glob)
        if category in ("horizon", "cloudevent"):
            return False
        if self.categories is not None and category not in self.categories:
            return False
        return _name_matches(name, self.name, self.glob)

    def ce_types(self) -> list[tuple[str, bool]]:
        """The CloudEvent ``type`` values (``(value or glob, is a glob)``) the selected events
        may carry, from any producer (conservative)."""
        if self.kind == "type":
            assert self.name is not None
            return [(self.name, self.glob)]
        if self.kind == "horizon":
            return [(horizon_type(self, p), self.glob) for p in HORIZON_PRODUCERS]
        return list(_VCENTER_TYPES)

    def covers(self, other: Selector) -> bool:
        """Whether every event ``other`` selects is selected by this selector (conservative)."""
        if self.everything:
            return True
        if self.kind != other.kind:
            return False
        if self.categories is not None and (
            other.categories is None or not set(other.categories) <= set(self.categories)
        ):
            return False
        if self.name is None:
            return True
        if other.name is None:
            return False
        if not other.glob:
            return fnmatchcase(other.name, self.name) if self.glob else self.name == other.name
        if not self.glob:
            return False
        if self.name == other.name:
            return True
        prefix, rest = glob_parts(self.name)
        # "P*" covers any glob whose literal prefix starts with P.
        return rest == "*" and glob_parts(other.name)[0].startswith(prefix)

    def may_overlap(self, other: Selector) -> bool:
        """Whether some event could be selected by both (conservative: ``True`` when unsure)."""
        if self.everything or other.everything:
            return True
        if self.kind != other.kind:
            if "type" not in (self.kind, other.kind):
                return False  # vCenter and Horizon events never share a CloudEvent type
            return any(
                names_may_overlap(a, a_glob, b, b_glob)
                for a, a_glob in self.ce_types()
                for b, b_glob in other.ce_types()
            )
        if (
            self.categories is not None
            and other.categories is not None
            and not set(self.categories) & set(other.categories)
        ):
            return False
        if self.name is None or other.name is None:
            return True
        return names_may_overlap(self.name, self.glob, other.name, other.glob)


def _name_matches(name: str, pattern: str | None, glob: bool) -> bool:
    if pattern is None:
        return True
    return fnmatchcase(name, pattern) if glob else name == pattern


def names_may_overlap(first: str, first_glob: bool, second: str, second_glob: bool) -> bool:
    """Whether some text could match both names or globs (conservative)."""
    if not first_glob and not second_glob:
        return first == second
    if not first_glob:
        return fnmatchcase(first, second)
    if not second_glob:
        return fnmatchcase(second, first)
    one, two = _literal_ends(first), _literal_ends(second)
    prefixes_agree = one[0].startswith(two[0]) or two[0].startswith(one[0])
    suffixes_agree = one[1].endswith(two[1]) or two[1].endswith(one[1])
    return prefixes_agree and suffixes_agree


def horizon_type(selector: Selector, producer: str) -> str:
    """The CloudEvent ``type`` (or glob of it) a Horizon producer sends for a Horizon selector:
    ``com.vmware.event.router/horizon.<lower-cased type>.v0`` from the event router
    (``router``), ``com.vmware.horizon.<lower-cased type>.v0`` from the HorizonSource
    (``horizon-source``).

    Raises:
        ManifestError: not a Horizon selector, or an unknown Horizon producer.
    """
    if selector.kind != "horizon" or selector.name is None:
        raise ManifestError(f"{selector.label!r} selects no Horizon events")
    if producer not in _HORIZON_TYPE_PREFIXES:
        raise ManifestError(
            f"unknown Horizon producer {producer!r}: use {' or '.join(HORIZON_PRODUCERS)}"
        )
    event_type = selector.name[len(HORIZON_NAME_PREFIX) :].lower()
    return _HORIZON_TYPE_PREFIXES[producer] + event_type + TYPE_SUFFIX


def glob_parts(pattern: str) -> tuple[str, str]:
    """Split a glob into its literal prefix and the rest: ``"Vm*Event"`` -> ``"Vm", "*Event"``."""
    for index, char in enumerate(pattern):
        if char in _GLOB_CHARS:
            return pattern[:index], pattern[index:]
    return pattern, ""


def _literal_ends(pattern: str) -> tuple[str, str]:
    """The literal prefix and suffix of a glob (``[...]`` counts as a wildcard)."""
    prefix, rest = glob_parts(pattern)
    suffix_start = len(rest)
    while suffix_start > 0 and rest[suffix_start - 1] not in "*?]":
        suffix_start -= 1
    return prefix, rest[suffix_start:] if rest else ""


def _is_glob(pattern: str) -> bool:
    return not _GLOB_CHARS.isdisjoint(pattern)


def selectors_for(router: Router) -> list[Selector]:
    """The router's subscriptions as a deterministic, non-redundant list of selectors:
    vCenter ones first, then Horizon routes, then type routes, each in registration order.

    Raises:
        ManifestError: the router has no routes and no default handler.
    """
    from ..events import ancestors

    if router.defaults:
        return [Selector(label="all")]
    class_names, type_ids, _ = router.subscribed_names()
    others = [
        Selector(
            label=route.pattern,
            name=route.pattern,
            glob=route.kind.endswith("-glob"),
            kind=_ROUTE_KINDS[route.kind],
        )
        for route in router.routes
        if route.kind in _ROUTE_KINDS
    ]
    if not class_names and not type_ids and not others:
        raise ManifestError("the router has no routes: register handlers with @router.on(...)")

    category_wide: set[str] = set()
    class_globs: list[str] = []
    star = False
    for route in router.routes:
        if route.kind == "class":
            for class_name, category in CATEGORY_FOR_CLASS.items():
                if route.pattern in ancestors(class_name):
                    category_wide.add(category)
        elif route.kind == "glob":
            if route.pattern == "*":
                star = True
            else:
                class_globs.append(route.pattern)

    if star:
        # "*" selects every vCenter event, of every category, and nothing else.
        return _without_covered([Selector(label="*", categories=CATEGORIES), *others])
    selectors: list[Selector] = []
    for category in sorted(category_wide):
        class_name = next(k for k, v in CATEGORY_FOR_CLASS.items() if v == category)
        selectors.append(Selector(label=class_name, categories=(category,)))
    for name in class_names:
        if name in CATEGORY_FOR_CLASS:
            if CATEGORY_FOR_CLASS[name] in category_wide:
                continue
            # An exact or glob route on the bare class name: events sent under that name.
            selectors.append(Selector(label=name, name=name))
            continue
        selectors.append(Selector(label=name, name=name, categories=("event",)))
    for pattern in sorted(set(class_globs)):
        if "*" in pattern or "?" in pattern:
            selectors.append(
                Selector(label=pattern, name=pattern, glob=True, categories=_TYPE_ID_CATEGORIES)
            )
    for pattern in type_ids:
        if _is_glob(pattern):
            selectors.append(Selector(label=pattern, name=pattern, glob=True))
        else:
            selectors.append(Selector(label=pattern, name=pattern))
    return _without_covered(selectors + others)


# Why a platform cannot deliver a kind of route (facts from the event router's processors:
# vmware-event-router/internal/processor/{openfaas,aws} and provider/horizon).
_NO_SUBJECT = (
    "the event router's Horizon provider sets no CloudEvent subject, and its {processor} "
    "processor {uses}"
)
_CANNOT = {
    ("openfaas", "horizon"): _NO_SUBJECT.format(
        processor="OpenFaaS",
        uses="invokes the functions whose topic is the subject: an empty topic, which no "
        "function can subscribe to",
    ),
    ("openfaas", "type"): (
        "OpenFaaS topics are CloudEvent subjects, not types: subscribe the subjects these "
        "events carry (a webhook sender sets its own) with --topic SUBJECT"
    ),
    ("lambda", "horizon"): _NO_SUBJECT.format(
        processor="EventBridge",
        uses="puts the subject in DetailType, which EventBridge requires: the entry is refused",
    ),
}


def unsubscribed_routes(router: Router, platform: str = "knative") -> dict[str, str]:
    """The Horizon and type routes a platform's manifests leave out, each with why, in
    registration order (``platform``: ``knative``, ``openfaas``, ``lambda``, ``gcf``).

    Knative Triggers select both kinds by their CloudEvent ``type``, and functions-framework
    filters nothing, so those leave nothing out; the event router's OpenFaaS processor cannot
    deliver Horizon events (they have no subject, its topic) nor select by type, its EventBridge
    processor cannot deliver Horizon events (no subject for DetailType).
    """
    if router.defaults:
        return {}
    out: dict[str, str] = {}
    for route in router.routes:
        reason = _CANNOT.get((platform, _ROUTE_KINDS.get(route.kind, "")))
        if reason is not None and route.pattern not in out:
            out[route.pattern] = reason
    return out


def subscribable(router: Router, platform: str) -> list[Selector]:
    """:func:`selectors_for` without the routes the platform cannot deliver.

    Raises:
        ManifestError: no routes, or only routes the platform cannot deliver (named, with why).
    """
    left_out = unsubscribed_routes(router, platform)
    selectors = [s for s in selectors_for(router) if s.kind == "vcenter" or s.label not in left_out]
    if not selectors:
        reasons = "; ".join(f"{p!r}: {why}" for p, why in left_out.items())
        raise ManifestError(f"no route of this router can be subscribed here: {reasons}")
    return selectors


def _without_covered(selectors: list[Selector]) -> list[Selector]:
    """Drop duplicates and selectors a broader one covers; keep the first occurrence's order."""
    unique = list(dict.fromkeys(selectors))
    kept: list[Selector] = []
    for index, selector in enumerate(unique):
        covered = any(
            other.covers(selector)
            # of two that cover each other, the earlier one stays
            and (position < index or not selector.covers(other))
            for position, other in enumerate(unique)
            if position != index
        )
        if not covered:
            kept.append(selector)
    return kept


def disjoint(selectors: list[Selector]) -> list[tuple[Selector, list[Selector]]]:
    """Each selector with the earlier selectors it may overlap (to exclude from its rule)."""
    out: list[tuple[Selector, list[Selector]]] = []
    for index, selector in enumerate(selectors):
        earlier = [s for s in selectors[:index] if s.may_overlap(selector)]
        out.append((selector, earlier))
    return out
