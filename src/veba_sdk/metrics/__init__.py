"""Metrics of dispatched events: Prometheus on the HTTP adapters, CloudWatch EMF on Lambda.

* ``knative.asgi(router, metrics=True)`` (and ``wsgi``, ``new``), ``openfaas.handler(router,
  metrics=True)`` and ``veba serve --metrics`` count every event and serve the Prometheus text
  on ``GET /metrics`` of the same server (:class:`PrometheusMetrics`; ``pip install
  'veba-sdk[metrics]'``).
* ``aws_lambda.handler(router, metrics=True)`` prints the same figures as Embedded Metric
  Format log lines (:class:`EMFMetrics`), with the standard library only.

What is counted: events received per event name and producer; outcomes per handler (``ok``,
``failed``, ``duplicate``, ``no_match``); handler durations; events in flight. Event names
are label values only when a catalogue or a route spells them (else ``"other"``), so the
number of series stays bounded whatever senders send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._emf import DEFAULT_NAMESPACE, EMFMetrics
    from ._labels import OTHER
    from ._observer import NO_HANDLER, OUTCOMES
    from ._prometheus import DEFAULT_BUCKETS, PrometheusMetrics, resolve_metrics

__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_NAMESPACE",
    "NO_HANDLER",
    "OTHER",
    "OUTCOMES",
    "EMFMetrics",
    "PrometheusMetrics",
    "resolve_metrics",
]

# Each name from its own module, imported on first use: a Lambda function's EMF lines load
# neither the Prometheus side nor the label catalogue lookups.
_HOMES = {
    "DEFAULT_BUCKETS": "_prometheus",
    "PrometheusMetrics": "_prometheus",
    "resolve_metrics": "_prometheus",
    "DEFAULT_NAMESPACE": "_emf",
    "EMFMetrics": "_emf",
    "OTHER": "_labels",
    "NO_HANDLER": "_observer",
    "OUTCOMES": "_observer",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
