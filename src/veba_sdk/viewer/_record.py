"""What the viewer records: handler runs of a router (an observer) and deliveries of the
event source (a target wrapper)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._observe import DispatchObserver
from ..wire import TYPE_SUFFIX, VSPHERE_TYPE_PREFIX
from ._feed import EventFeed

if TYPE_CHECKING:
    from .._router import DispatchResult, Route
    from ..events import Envelope

__all__ = ["ObservedTarget", "ViewerObserver"]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


class ViewerObserver(DispatchObserver):
    """Publishes each event a router dispatches to a feed: its attributes, data, and each
    handler's outcome (``ok``/``failed``) and duration.

    Args:
        feed: where the records go.
    """

    def __init__(self, feed: EventFeed) -> None:
        self.feed = feed

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        """Note when the event started; handlers are collected in the returned list."""
        return envelope, time.perf_counter(), []

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        """Note one handler's outcome and duration."""
        handler: dict[str, Any] = {
            "name": route.name,
            "route": route.pattern,
            "outcome": "failed" if error is not None else "ok",
            "ms": round(seconds * 1000, 3),
        }
        if error is not None:
            handler["error"] = _error_text(error)
        state[2].append(handler)

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        """Publish the event's record."""
        envelope, started, handlers = state
        observed = {handler["name"] for handler in handlers}
        for name, error in result.failed:  # a `where` filter or the store, before handlers
            if name not in observed:
                handlers.append(
                    {"name": name, "route": "", "outcome": "failed", "error": _error_text(error)}
                )
        if result.duplicate:
            outcome = "duplicate"
        elif result.failed:
            outcome = "failed"
        elif not result.matched:
            outcome = "no match"
        else:
            outcome = "ok"
        self.feed.publish(
            {
                "name": envelope.name,
                "category": envelope.category,
                "producer": envelope.producer,
                "attributes": envelope.attributes,  # shaped when a page reads it
                "data": envelope.data,
                "handlers": handlers,
                "outcome": outcome,
                "ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )


def _name_of(attributes: Any) -> str:
    """The event name for a record of the source (no decoding): subject, else the type."""
    subject = attributes.get("subject")
    if subject:
        return str(subject)
    kind = str(attributes.get("type", ""))
    if kind.startswith(VSPHERE_TYPE_PREFIX) and kind.endswith(TYPE_SUFFIX):
        return kind[len(VSPHERE_TYPE_PREFIX) : -len(TYPE_SUFFIX)]
    return kind


class ObservedTarget:
    """An event source's delivery target that also publishes each delivery to a feed.

    Every attempt is a record: the event, and the target as its one "handler" with the
    outcome (``ok`` or ``failed`` with the error) and duration. Everything else (``stats``,
    ``close``, ``batch_size``) is the target's own.

    Args:
        target: the delivery target (``deliver(attributes, data)``).
        feed: where the records go.
        name: how the page names the target (default: its ``repr``).
    """

    def __init__(self, target: Any, feed: EventFeed, name: str | None = None) -> None:
        self._target = target
        self.feed = feed
        self.name = name or repr(target)
        if callable(getattr(target, "deliver_batch", None)):
            self.deliver_batch = self._deliver_batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def _publish(
        self, items: Sequence[tuple[Any, Any]], error: BaseException | None, seconds: float
    ) -> None:
        for attributes, data in items:
            handler: dict[str, Any] = {
                "name": self.name,
                "route": "delivery",
                "outcome": "failed" if error is not None else "ok",
                "ms": round(seconds * 1000, 3),
            }
            if error is not None:
                handler["error"] = _error_text(error)
            self.feed.publish(
                {
                    "name": _name_of(attributes),
                    "category": attributes.get("eventclass") or "",
                    "producer": "source",
                    "attributes": attributes,
                    "data": data,
                    "handlers": [handler],
                    "outcome": handler["outcome"],
                    "ms": handler["ms"],
                }
            )

    def __call__(self, attributes: dict[str, Any], data: Any) -> None:
        """Deliver one event through the target, and publish the attempt."""
        started = time.perf_counter()
        try:
            self._target(attributes, data)
        except Exception as exc:
            self._publish([(attributes, data)], exc, time.perf_counter() - started)
            raise
        self._publish([(attributes, data)], None, time.perf_counter() - started)

    def _deliver_batch(self, items: Sequence[tuple[Any, Any]]) -> None:
        started = time.perf_counter()
        try:
            self._target.deliver_batch(items)
        except Exception as exc:
            self._publish(items, exc, time.perf_counter() - started)
            raise
        self._publish(items, None, time.perf_counter() - started)

    def __repr__(self) -> str:
        return f"ObservedTarget({self._target!r})"
