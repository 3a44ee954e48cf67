"""What both metric sinks share: the outcomes of one dispatched event, per handler, the
routers each observes, and the process-wide instance each makes on first use."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

from .._router import DuplicateInProgress

if TYPE_CHECKING:
    from .._router import DispatchResult, Router

__all__ = ["NO_HANDLER", "OUTCOMES", "ObservedRouters", "Once", "outcomes"]

T = TypeVar("T")

#: The ``handler`` label of an event no handler matched.
NO_HANDLER = "(none)"
#: Every value of the ``outcome`` label.
OUTCOMES = ("ok", "failed", "duplicate", "no_match")


class ObservedRouters:
    """The routers a metric sink observes already: each gets the sink's observer once, however
    many apps are built on it (held weakly, so a dropped router is forgotten)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routers: weakref.WeakSet[Router] = weakref.WeakSet()

    def first_time(self, router: Router) -> bool:
        """Whether ``router`` is new here (it is remembered from now on)."""
        with self._lock:
            if router in self._routers:
                return False
            self._routers.add(router)
            return True


class Once(Generic[T]):
    """A value made on first use, once, however many threads ask for it at the same time
    (a double-checked lock: after the first call, reading it takes no lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self, make: Callable[[], T]) -> T:
        """The value, made by ``make()`` if this is the first call."""
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = make()
        return value


def outcomes(router: Router, result: DispatchResult) -> Iterator[tuple[str, str]]:
    """``(handler, outcome)`` pairs for one dispatched event.

    * a handler that returned: ``ok``; one that raised (or whose ``where`` filter raised):
      ``failed``;
    * a redelivery the idempotency store refused (handled already, or being handled
      elsewhere right now): ``duplicate`` for each handler that would have run;
    * no route selected it: ``no_match``, with the handler ``"(none)"``.
    """
    in_progress = False
    for name, exc in result.failed:
        if isinstance(exc, DuplicateInProgress):
            in_progress = True
        else:
            yield name, "failed"
    if result.duplicate or in_progress:
        envelope = result.envelope
        routes = router.handlers_for(
            envelope.name,
            envelope.category,
            type(envelope.event).__name__,
            str(envelope.attributes.get("type", "")),
        )
        for route in routes:
            yield route.name, "duplicate"
        return
    for name in result.ran:
        yield name, "ok"
    if not result.matched:
        yield NO_HANDLER, "no_match"
