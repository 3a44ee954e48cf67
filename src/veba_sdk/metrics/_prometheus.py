"""Prometheus metrics of dispatched events, on prometheus-client.

=====================================  =========  ================================================
name                                   type       labels
=====================================  =========  ================================================
``veba_events_received_total``         counter    ``event`` (catalogued name or ``other``),
                                                  ``producer`` (``router``, ``vsphere-source``,
                                                  ``horizon-source``, ``cloudevent``)
``veba_handler_outcomes_total``        counter    ``handler`` (qualified name, ``(none)`` for no
                                                  match), ``outcome`` (``ok``, ``failed``,
                                                  ``duplicate``, ``no_match``)
``veba_handler_duration_seconds``      histogram  ``handler``
``veba_events_in_flight``              gauge      (none): events whose handlers are running
=====================================  =========  ================================================

prometheus-client is imported when a :class:`PrometheusMetrics` is made, never before.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from .._extras import needs_extra
from .._observe import DispatchObserver
from ._labels import EventLabels
from ._observer import outcomes

if TYPE_CHECKING:
    from .._router import DispatchResult, Route, Router
    from ..events import Envelope

__all__ = ["DEFAULT_BUCKETS", "PrometheusMetrics", "resolve_metrics"]

#: Handler duration buckets (seconds): from a dict lookup to a slow vROps call.
DEFAULT_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

_default: PrometheusMetrics | None = None
_default_lock = threading.Lock()


class PrometheusMetrics:
    """The four collectors, in a registry, and what feeds them from routers.

    Args:
        registry: a ``prometheus_client.CollectorRegistry``; ``None`` for prometheus-client's
            default ``REGISTRY`` (which also carries its process and Python collectors).
        namespace: the metric name prefix.
        buckets: the handler duration histogram's upper bounds, in seconds.

    ``metrics=True`` in an adapter factory means :meth:`default`, one per process.
    """

    def __init__(
        self,
        registry: Any = None,
        *,
        namespace: str = "veba",
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> None:
        with needs_extra("metrics", "veba_sdk.metrics"):
            from prometheus_client import REGISTRY, Counter, Gauge, Histogram
        self.registry = REGISTRY if registry is None else registry
        self.received = Counter(
            "events_received",
            "Events received, by event name (catalogued, else 'other') and producer.",
            ["event", "producer"],
            namespace=namespace,
            registry=self.registry,
        )
        self.outcomes = Counter(
            "handler_outcomes",
            "Handler outcomes: ok, failed, duplicate (a redelivery not run), no_match.",
            ["handler", "outcome"],
            namespace=namespace,
            registry=self.registry,
        )
        self.duration = Histogram(
            "handler_duration_seconds",
            "Time handlers took, whether they returned or raised.",
            ["handler"],
            namespace=namespace,
            registry=self.registry,
            buckets=buckets,
        )
        self.in_flight = Gauge(
            "events_in_flight",
            "Events whose handlers are running now.",
            namespace=namespace,
            registry=self.registry,
        )
        # Children by label values: .labels() takes a lock and checks its arguments each
        # time; a dict lookup is what the hot path can afford.
        self._received: dict[tuple[str, str], Any] = {}
        self._outcomes: dict[tuple[str, str], Any] = {}
        self._durations: dict[str, Any] = {}
        self._observed: weakref.WeakSet[Router] = weakref.WeakSet()
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> PrometheusMetrics:
        """The process-wide instance on prometheus-client's default registry."""
        global _default
        if _default is None:
            with _default_lock:
                if _default is None:
                    _default = cls()
        return _default

    def observe(self, router: Router) -> None:
        """Count what ``router`` dispatches from now on (once, however often called)."""
        with self._lock:
            if router in self._observed:
                return
            self._observed.add(router)
        router.add_observer(_Observer(self, router))

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry's samples as ``(body, content type)``: Prometheus text, or
        OpenMetrics when ``accept`` asks for it."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def _count_received(self, event: str, producer: str) -> None:
        key = (event, producer)
        child = self._received.get(key)
        if child is None:
            child = self._received[key] = self.received.labels(event, producer)
        child.inc()

    def _count_outcome(self, handler: str, outcome: str) -> None:
        key = (handler, outcome)
        child = self._outcomes.get(key)
        if child is None:
            child = self._outcomes[key] = self.outcomes.labels(handler, outcome)
        child.inc()

    def _time(self, handler: str, seconds: float) -> None:
        child = self._durations.get(handler)
        if child is None:
            child = self._durations[handler] = self.duration.labels(handler)
        child.observe(seconds)

    def __repr__(self) -> str:
        return f"<PrometheusMetrics registry={self.registry!r}>"


class _Observer(DispatchObserver):
    """Feeds a :class:`PrometheusMetrics` from one router's dispatches."""

    def __init__(self, metrics: PrometheusMetrics, router: Router) -> None:
        self.metrics = metrics
        self.router = router
        self.labels = EventLabels(router)

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        self.metrics._count_received(self.labels(envelope), envelope.producer)
        self.metrics.in_flight.inc()
        return None

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        self.metrics._time(route.name, seconds)

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        self.metrics.in_flight.dec()
        for handler, outcome in outcomes(self.router, result):
            self.metrics._count_outcome(handler, outcome)


def resolve_metrics(metrics: bool | PrometheusMetrics) -> PrometheusMetrics | None:
    """What an adapter factory's ``metrics=`` means: ``None`` (off), the process default, or
    the given instance."""
    if metrics is False or metrics is None:
        return None
    if metrics is True:
        return PrometheusMetrics.default()
    if isinstance(metrics, PrometheusMetrics):
        return metrics
    raise TypeError(f"metrics= takes True, False or a PrometheusMetrics, not {metrics!r}")
