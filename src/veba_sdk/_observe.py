"""Observers of dispatch: what tracing and the live viewer see of each event.

An observer is told when an event starts, when each of its handlers starts and finishes (with
its failure, if any, and its duration), and when the event is done. A router has none until one
is added with :meth:`veba_sdk.Router.add_observer`, or until an OpenTelemetry tracer provider
is configured (:mod:`veba_sdk.tracing`, checked on the router's first event); with none, a
dispatch pays one attribute test.

``handler_started`` runs where the handler is called from (the event loop for a ``def``
handler sent to a worker thread, which runs in a copy of that context), so an observer may make
a context current there (an OpenTelemetry span) and the handler sees it. Observers never break
dispatch: an observer's exception is logged at debug and ignored.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._router import DispatchResult, Route, Router
    from .events import Envelope

__all__ = ["DispatchObserver", "Watch", "observers_for"]

logger = logging.getLogger("veba_sdk.observe")


class DispatchObserver:
    """Base class of dispatch observers; every method does nothing unless overridden.

    The value :meth:`event_started` returns is handed back to the other calls for that event,
    and the value :meth:`handler_started` returns to :meth:`handler_finished`.
    """

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        """An event is about to run its handlers (or was found to have none to run)."""
        return None

    def handler_started(self, state: Any, route: Route) -> Any:
        """A handler is about to be called."""
        return None

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        """A handler returned (``error`` is ``None``) or raised ``error``."""

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        """The event is done: ``result`` says what ran, failed, matched or was a duplicate."""


class Watch:
    """One event's observation by a router's observers (made only when there are some)."""

    __slots__ = ("_failed", "_handler_states", "_observers", "_started", "_states")

    def __init__(
        self,
        observers: tuple[DispatchObserver, ...],
        envelope: Envelope,
        platform_context: Any,
    ) -> None:
        self._observers = observers
        self._states = [_safe(o.event_started, envelope, platform_context) for o in observers]
        self._handler_states: list[Any] = []
        self._started = 0.0
        self._failed = 0

    def handler_started(self, route: Route, result: DispatchResult) -> None:
        """Note a handler's start (``result`` tells later whether it failed)."""
        self._failed = len(result.failed)
        self._handler_states = [
            _safe(o.handler_started, state, route)
            for o, state in zip(self._observers, self._states, strict=True)
        ]
        self._started = time.perf_counter()

    def handler_finished(self, route: Route, result: DispatchResult) -> None:
        """Note a handler's end: failed when it added to ``result.failed``."""
        seconds = time.perf_counter() - self._started
        error = result.failed[-1][1] if len(result.failed) > self._failed else None
        for observer, state, handler_state in zip(
            self._observers, self._states, self._handler_states, strict=True
        ):
            _safe(observer.handler_finished, state, route, handler_state, error, seconds)

    def finished(self, result: DispatchResult) -> None:
        """Note the event's end."""
        for observer, state in zip(self._observers, self._states, strict=True):
            _safe(observer.event_finished, state, result)


def _safe(method: Any, *args: Any) -> Any:
    try:
        return method(*args)
    except Exception as exc:  # an observer must never fail an event
        logger.debug("observer %r failed: %s: %s", method, type(exc).__name__, exc)
        return None


def observers_for(router: Router) -> tuple[DispatchObserver, ...]:
    """The observers of a router's events: the ones added to it, and the tracing observer
    when an OpenTelemetry tracer provider is configured."""
    added: tuple[DispatchObserver, ...] = tuple(getattr(router, "_added_observers", ()))
    # Only look at OpenTelemetry when something imported it already: it is never imported
    # here, so a function without it pays nothing.
    if "opentelemetry.trace" in sys.modules:
        from .tracing import tracing_observer

        tracer = tracing_observer()
        if tracer is not None and tracer not in added:
            return (tracer, *added)
    return added
