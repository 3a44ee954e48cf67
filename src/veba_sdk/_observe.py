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
from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._result import DispatchResult
    from ._router import Router
    from ._routes import Route
    from .events import Envelope

__all__ = ["DispatchObserver", "Observers", "Watch", "observers_for"]

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


class Observers:
    """A router's observers, and the hooks each of them overrides, found once when the
    observers change (so an event never calls a hook that does nothing).

    Attributes:
        observers: the observers, in order.
        event_started, handler_started, handler_finished, event_finished: ``(index, bound
            method)`` of each observer overriding that hook.
        per_handler: some observer overrides a handler hook (else dispatch skips them).
    """

    __slots__ = (
        "event_finished",
        "event_started",
        "handler_finished",
        "handler_started",
        "nothing",
        "observers",
        "per_handler",
    )

    def __init__(self, observers: tuple[DispatchObserver, ...]) -> None:
        self.observers = observers
        self.event_started = _overriding(observers, "event_started")
        self.handler_started = _overriding(observers, "handler_started")
        self.handler_finished = _overriding(observers, "handler_finished")
        self.event_finished = _overriding(observers, "event_finished")
        self.per_handler = bool(self.handler_started or self.handler_finished)
        #: a ``None`` state for each observer: what a hook not overridden returns
        self.nothing: tuple[None, ...] = (None,) * len(observers)


def _overriding(observers: tuple[DispatchObserver, ...], hook: str) -> tuple[tuple[int, Any], ...]:
    base = getattr(DispatchObserver, hook)
    found = []
    for index, observer in enumerate(observers):
        method = getattr(observer, hook, None)
        if method is not None and getattr(method, "__func__", method) is not base:
            found.append((index, method))
    return tuple(found)


class Watch:
    """One event's observation by a router's observers (made only when there are some).

    Every hook is called in a ``try``: an observer's exception is logged and its state is
    ``None``; the others are still told.
    """

    __slots__ = ("_failed", "_handler_states", "_observers", "_started", "_states")

    def __init__(self, observers: Observers, envelope: Envelope, platform_context: Any) -> None:
        self._observers = observers
        states: Sequence[Any] = observers.nothing
        if observers.event_started:
            states = list(states)
            for index, method in observers.event_started:
                try:
                    states[index] = method(envelope, platform_context)
                except Exception as exc:  # an observer must never fail an event
                    _ignore(method, exc)
        self._states = states
        self._handler_states: Sequence[Any] = observers.nothing
        self._started = 0.0
        self._failed = 0

    def handler_started(self, route: Route, result: DispatchResult) -> None:
        """Note a handler's start (``result`` tells later whether it failed)."""
        observers = self._observers
        if observers.handler_started:
            states = self._states
            handler_states = list(observers.nothing)
            for index, method in observers.handler_started:
                try:
                    handler_states[index] = method(states[index], route)
                except Exception as exc:
                    _ignore(method, exc)
            self._handler_states = handler_states
        self._failed = len(result.failed)
        self._started = perf_counter()

    def handler_finished(self, route: Route, result: DispatchResult) -> None:
        """Note a handler's end: failed when it added to ``result.failed``."""
        seconds = perf_counter() - self._started
        failed = result.failed
        error = failed[-1][1] if len(failed) > self._failed else None
        states = self._states
        handler_states = self._handler_states
        for index, method in self._observers.handler_finished:
            try:
                method(states[index], route, handler_states[index], error, seconds)
            except Exception as exc:
                _ignore(method, exc)

    def finished(self, result: DispatchResult) -> None:
        """Note the event's end."""
        states = self._states
        for index, method in self._observers.event_finished:
            try:
                method(states[index], result)
            except Exception as exc:
                _ignore(method, exc)


def _ignore(method: Any, exc: Exception) -> None:
    logger.debug("observer %r failed: %s: %s", method, type(exc).__name__, exc)


def observers_for(router: Router) -> Observers | None:
    """The observers of a router's events (``None`` when there are none): the ones added to
    it, and the tracing observer when an OpenTelemetry tracer provider is configured."""
    added: tuple[DispatchObserver, ...] = tuple(getattr(router, "_added_observers", ()))
    # Only look at OpenTelemetry when something imported it already: it is never imported
    # here, so a function without it pays nothing.
    if "opentelemetry.trace" in sys.modules:
        from .tracing import tracing_observer

        tracer = tracing_observer()
        if tracer is not None and tracer not in added:
            return Observers((tracer, *added))
    return Observers(added) if added else None
