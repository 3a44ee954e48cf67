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
* ``"*"`` or a default handler means everything: one selector without constraints.

Selectors a broader one already covers are dropped, and :func:`disjoint` tells generators which
earlier selectors may overlap a later one, so a platform that fans out per rule (one Knative
Trigger per selector) never delivers one event twice.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from .._router import Router

__all__ = [
    "CATEGORIES",
    "ManifestError",
    "Selector",
    "disjoint",
    "glob_parts",
    "selectors_for",
    "unsubscribed_routes",
]

CATEGORIES = ("event", "eventex", "extendedevent")
_TYPE_ID_CATEGORIES = ("eventex", "extendedevent")
_CATEGORY_CLASSES = {"EventEx": "eventex", "ExtendedEvent": "extendedevent"}
_GLOB_CHARS = frozenset("*?[")


class ManifestError(Exception):
    """The routes cannot be expressed for the chosen platform; the message is one line."""


@attrs.frozen(order=True)
class Selector:
    """One subscription: a constraint on the event name and one on its category.

    Attributes:
        label: a readable name for the subscription (used to name Triggers).
        name: the exact name or glob the event name must match; ``None`` for any name.
        glob: whether ``name`` is a glob (``*``, ``?``, ``[...]``).
        categories: the categories accepted; ``None`` for any.
    """

    label: str
    name: str | None = None
    glob: bool = False
    categories: tuple[str, ...] | None = None

    @property
    def everything(self) -> bool:
        """Whether this selector accepts every event."""
        return self.name is None and self.categories is None

    def matches(self, name: str, category: str) -> bool:
        """Whether an event of this name and category is selected (the reference semantics)."""
        if self.categories is not None and category not in self.categories:
            return False
        if self.name is None:
            return True
        return fnmatchcase(name, self.name) if self.glob else name == self.name

    def covers(self, other: Selector) -> bool:
        """Whether every event ``other`` selects is selected by this selector (conservative)."""
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
        if (
            self.categories is not None
            and other.categories is not None
            and not set(self.categories) & set(other.categories)
        ):
            return False
        if self.name is None or other.name is None:
            return True
        if not self.glob and not other.glob:
            return self.name == other.name
        if not self.glob:
            return fnmatchcase(self.name, other.name or "")
        if not other.glob:
            return fnmatchcase(other.name, self.name)
        first, second = _literal_ends(self.name), _literal_ends(other.name)
        prefixes_agree = first[0].startswith(second[0]) or second[0].startswith(first[0])
        suffixes_agree = first[1].endswith(second[1]) or second[1].endswith(first[1])
        return prefixes_agree and suffixes_agree


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
    """The router's subscriptions as a deterministic, non-redundant list of selectors.

    Raises:
        ManifestError: the router has no routes and no default handler.
    """
    from ..events import ancestors

    class_names, type_ids, everything = router.subscribed_names()
    if everything:
        return [Selector(label="all")]
    if not class_names and not type_ids:
        others = unsubscribed_routes(router)
        if others:
            raise ManifestError(
                "the manifests subscribe vCenter events only, and this router routes none: "
                f"subscribe {', '.join(repr(p) for p in others)} by their CloudEvent types "
                "yourself (a Trigger or rule of your own)"
            )
        raise ManifestError("the router has no routes: register handlers with @router.on(...)")

    category_wide: set[str] = set()
    class_globs: list[str] = []
    for route in router.routes:
        if route.kind == "class":
            for class_name, category in _CATEGORY_CLASSES.items():
                if route.pattern in ancestors(class_name):
                    category_wide.add(category)
        elif route.kind == "glob" and route.pattern != "*":
            class_globs.append(route.pattern)

    selectors: list[Selector] = []
    for category in sorted(category_wide):
        class_name = next(k for k, v in _CATEGORY_CLASSES.items() if v == category)
        selectors.append(Selector(label=class_name, categories=(category,)))
    for name in class_names:
        if name in _CATEGORY_CLASSES:
            if _CATEGORY_CLASSES[name] in category_wide:
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
    return _without_covered(selectors)


def unsubscribed_routes(router: Router) -> list[str]:
    """The Horizon and type routes (``on("horizon.*")``, ``on_type(...)``), which the generated
    manifests do not subscribe (they select vCenter events), in registration order."""
    kinds = ("horizon", "horizon-glob", "type", "type-glob")
    return list(dict.fromkeys(r.pattern for r in router.routes if r.kind in kinds))


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
