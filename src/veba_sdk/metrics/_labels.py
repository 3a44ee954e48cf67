"""Bounded label values: event names from the catalogues or the router's own routes, else
``"other"``.

Event names come from the wire, so a label made of them would let any sender grow the metric
set without bound. An event name becomes a label value only when it is a catalogued vCenter
event class (443 of them), a catalogued EventEx/ExtendedEvent type id (about 1,750), or a name
one of the router's routes spells out exactly (a Horizon type, a CloudEvent ``type``); any
other name counts under :data:`OTHER`. Handler names come from registration, so they are
bounded by the code.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..wire import VCENTER_CATEGORIES

if TYPE_CHECKING:
    from .._router import Router
    from ..events import Envelope

__all__ = ["OTHER", "EventLabels"]

#: The label value of every event whose name is in no catalogue and no route.
OTHER = "other"
_SPELLED_KINDS = frozenset({"exact", "typeid", "horizon", "type"})
_MAX_CACHED = 4096


class EventLabels:
    """The ``event`` label value of each envelope a router dispatches, cached per name."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._cache: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __call__(self, envelope: Envelope) -> str:
        """The label value for ``envelope``'s event name."""
        key = (envelope.name, envelope.category)
        label = self._cache.get(key)
        if label is None:
            label = envelope.name if self._known(*key) else OTHER
            with self._lock:
                if len(self._cache) >= _MAX_CACHED:
                    self._cache.clear()
                self._cache[key] = label
        return label

    def _known(self, name: str, category: str) -> bool:
        if category in VCENTER_CATEGORIES:
            from ..events import is_event_class, is_type_id

            if is_event_class(name) or is_type_id(name):
                return True
        routes = (*self._router.routes, *self._router.defaults)
        return any(r.kind in _SPELLED_KINDS and r.pattern == name for r in routes)
