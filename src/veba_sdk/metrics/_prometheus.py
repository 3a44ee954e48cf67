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
from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._extras import needs_extra
from .._observe import DispatchObserver
from ._labels import EventLabels
from ._observer import ObservedRouters, Once, outcomes

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

_default: Once[PrometheusMetrics] = Once()


class PrometheusMetrics:
    """The four metrics, in a registry, and what feeds them from routers.

    Args:
        registry: a ``prometheus_client.CollectorRegistry``; ``None`` for prometheus-client's
            default ``REGISTRY`` (which also carries its process and Python collectors).
        namespace: the metric name prefix.
        buckets: the handler duration histogram's upper bounds, in seconds.

    ``metrics=True`` in an adapter factory means :meth:`default`, one per process.

    The figures are plain counts under one lock, read by a collector when scraped (as
    :mod:`veba_sdk.source.stats` does for ``veba listen``): prometheus-client's own metric
    objects take a lock and check their state on every increment, which costs a request
    several of them; here an event costs two short critical sections.
    """

    def __init__(
        self,
        registry: Any = None,
        *,
        namespace: str = "veba",
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> None:
        with needs_extra("metrics", "veba_sdk.metrics"):
            from prometheus_client import REGISTRY
        self.registry = REGISTRY if registry is None else registry
        self.namespace = namespace
        bounds = sorted(float(b) for b in buckets if b != float("inf"))
        if not bounds:
            raise ValueError("buckets: at least one finite upper bound")
        self.buckets: tuple[float, ...] = tuple(bounds)
        self._lock = threading.Lock()
        self._received: dict[tuple[str, str], int] = {}
        self._outcomes: dict[tuple[str, str], int] = {}
        # Per handler: a count per bucket (the last one past every bound), and the sum.
        self._durations: dict[str, tuple[list[int], list[float]]] = {}
        self._in_flight = 0
        self._observed = ObservedRouters()
        self.registry.register(_Collector(self))

    @classmethod
    def default(cls) -> PrometheusMetrics:
        """The process-wide instance on prometheus-client's default registry."""
        return _default.get(cls)

    def observe(self, router: Router) -> None:
        """Count what ``router`` dispatches from now on (once, however often called)."""
        if self._observed.first_time(router):
            router.add_observer(_Observer(self, router))

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry's samples as ``(body, content type)``: Prometheus text, or
        OpenMetrics when ``accept`` asks for it."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def received(self) -> dict[tuple[str, str], int]:
        """Events received so far, by ``(event, producer)`` label values."""
        with self._lock:
            return dict(self._received)

    def outcomes(self) -> dict[tuple[str, str], int]:
        """Handler outcomes so far, by ``(handler, outcome)`` label values."""
        with self._lock:
            return dict(self._outcomes)

    def in_flight(self) -> int:
        """Events whose handlers are running now."""
        return self._in_flight

    def _snapshot(
        self,
    ) -> tuple[
        dict[tuple[str, str], int],
        dict[tuple[str, str], int],
        dict[str, tuple[list[int], float]],
        int,
    ]:
        with self._lock:
            durations = {h: (list(c), s[0]) for h, (c, s) in self._durations.items()}
            return dict(self._received), dict(self._outcomes), durations, self._in_flight

    def __repr__(self) -> str:
        return f"<PrometheusMetrics registry={self.registry!r}>"


class _Collector:
    """Reads a :class:`PrometheusMetrics`' counts when the registry is scraped."""

    def __init__(self, metrics: PrometheusMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        """No samples at registration: the names are what the registry checks for clashes."""
        return list(self._families({}, {}, {}, 0))

    def collect(self) -> Iterator[Any]:
        """The four families, from one consistent snapshot."""
        yield from self._families(*self.metrics._snapshot())

    def _families(
        self,
        received: dict[tuple[str, str], int],
        outcomes: dict[tuple[str, str], int],
        durations: dict[str, tuple[list[int], float]],
        in_flight: int,
    ) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )
        from prometheus_client.utils import floatToGoString

        prefix = self.metrics.namespace + "_"
        family = CounterMetricFamily(
            prefix + "events_received",
            "Events received, by event name (catalogued or routed, else 'other') and producer.",
            labels=["event", "producer"],
        )
        for (event, producer), count in sorted(received.items()):
            family.add_metric([event, producer], count)
        yield family
        family = CounterMetricFamily(
            prefix + "handler_outcomes",
            "Handler outcomes: ok, failed, duplicate (a redelivery not run), no_match.",
            labels=["handler", "outcome"],
        )
        for (handler, outcome), count in sorted(outcomes.items()):
            family.add_metric([handler, outcome], count)
        yield family
        histogram = HistogramMetricFamily(
            prefix + "handler_duration_seconds",
            "Time handlers took, whether they returned or raised.",
            labels=["handler"],
        )
        # prometheus-client spells bounds as Go does (1e+06): its helper has no annotations.
        bounds = [
            *(floatToGoString(b) for b in self.metrics.buckets),  # type: ignore[no-untyped-call]
            "+Inf",
        ]
        for handler, (counts, total) in sorted(durations.items()):
            cumulative = 0
            buckets = []
            for bound, count in zip(bounds, counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            histogram.add_metric([handler], buckets, total)
        yield histogram
        yield GaugeMetricFamily(
            prefix + "events_in_flight", "Events whose handlers are running now.", in_flight
        )


class _Observer(DispatchObserver):
    """Feeds a :class:`PrometheusMetrics` from one router's dispatches.

    It runs for every event, so it updates the counts itself, under the metrics' lock, in two
    short critical sections (the event's start and its end).
    """

    def __init__(self, metrics: PrometheusMetrics, router: Router) -> None:
        self.metrics = metrics
        self.router = router
        self.labels = EventLabels(router)
        # Bound once: these run for every event.
        self._lock = metrics._lock
        self._received = metrics._received
        self._outcomes = metrics._outcomes
        self._durations = metrics._durations
        self._bounds = metrics.buckets

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        key = (self.labels(envelope), envelope.producer)
        received = self._received
        metrics = self.metrics
        with self._lock:
            received[key] = received.get(key, 0) + 1
            metrics._in_flight += 1
        return []  # the handlers' durations, filled in below

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        state.append((route.name, seconds))

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        # The usual event: every chosen handler returned ("ok" for each that ran).
        usual = not (result.failed or result.duplicate or not result.matched)
        pairs = () if usual else tuple(outcomes(self.router, result))
        counts = self._outcomes
        durations = self._durations
        bounds = self._bounds
        with self._lock:
            self.metrics._in_flight -= 1
            if usual:
                for name in result.ran:
                    pair = (name, "ok")
                    counts[pair] = counts.get(pair, 0) + 1
            for pair in pairs:
                counts[pair] = counts.get(pair, 0) + 1
            for handler, seconds in state:
                entry = durations.get(handler)
                if entry is None:
                    entry = durations[handler] = ([0] * (len(bounds) + 1), [0.0])
                entry[0][bisect_left(bounds, seconds)] += 1
                entry[1][0] += seconds


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
