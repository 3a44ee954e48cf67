"""CloudWatch Embedded Metric Format (EMF) lines: the metrics of a Lambda function.

Lambda sends what a function prints to CloudWatch Logs, and CloudWatch turns every log line
that is an EMF document into metrics, as Powertools for AWS Lambda's ``Metrics`` does. Each
dispatched event prints:

* one line with the dimension ``service``: ``EventsReceived`` (1), ``NoMatch`` (0 or 1) and
  ``Duplicate`` (0 or 1, a redelivery the idempotency store refused), with the event name,
  producer and id as plain properties (searchable in Logs Insights, never dimensions);
* one line per handler that ran or would have run, with the dimensions ``service`` and
  ``handler``: ``HandlerOk``, ``HandlerFailed``, ``HandlerDuplicate`` (counts) and, for a
  handler that ran, ``HandlerDuration`` (milliseconds).

Event names are no dimension: each dimension value is a metric CloudWatch bills. Nothing here
imports more than the standard library, so a Lambda cold start stays lean.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from .._observe import DispatchObserver
from ._observer import NO_HANDLER, ObservedRouters, Once, outcomes

if TYPE_CHECKING:
    from .._router import DispatchResult, Route, Router
    from ..events import Envelope

__all__ = ["DEFAULT_NAMESPACE", "EMFMetrics"]

#: The CloudWatch namespace when neither the argument nor ``$POWERTOOLS_METRICS_NAMESPACE``
#: names one.
DEFAULT_NAMESPACE = "VEBA"
_EVENT_METRICS = [
    {"Name": "EventsReceived", "Unit": "Count"},
    {"Name": "NoMatch", "Unit": "Count"},
    {"Name": "Duplicate", "Unit": "Count"},
]
_HANDLER_COUNTS = {"ok": "HandlerOk", "failed": "HandlerFailed", "duplicate": "HandlerDuplicate"}
_HANDLER_METRICS = [{"Name": name, "Unit": "Count"} for name in _HANDLER_COUNTS.values()]
_DURATION = {"Name": "HandlerDuration", "Unit": "Milliseconds"}
_default: Once[EMFMetrics] = Once()


class EMFMetrics:
    """Writes one EMF document per event, and one per handler, as JSON log lines.

    Args:
        namespace: the CloudWatch namespace (``$POWERTOOLS_METRICS_NAMESPACE``, else
            ``"VEBA"``).
        service: the ``service`` dimension (``$POWERTOOLS_SERVICE_NAME``, else
            ``$AWS_LAMBDA_FUNCTION_NAME``, else ``"veba"``).
        stream: where lines go (``sys.stdout`` at the time of writing by default: what Lambda
            sends to CloudWatch Logs).
    """

    def __init__(
        self,
        namespace: str | None = None,
        *,
        service: str | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.namespace = (
            namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        )
        self.service = (
            service
            or os.environ.get("POWERTOOLS_SERVICE_NAME")
            or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
            or "veba"
        )
        self.stream = stream
        self._lock = threading.Lock()
        self._observed = ObservedRouters()

    @classmethod
    def default(cls) -> EMFMetrics:
        """The process-wide instance (what ``metrics=True`` means), settings from the
        environment."""
        return _default.get(cls)

    def observe(self, router: Router) -> None:
        """Write lines for every event ``router`` dispatches from now on (once, however
        often called)."""
        if self._observed.first_time(router):
            router.add_observer(_EMFObserver(self, router))

    def documents(
        self,
        envelope: Envelope,
        result: DispatchResult,
        pairs: list[tuple[str, str]],
        durations: dict[str, float],
        timestamp_ms: int,
    ) -> list[dict[str, Any]]:
        """The EMF documents for one dispatched event (see the module's docstring)."""
        identity = {
            "event": envelope.name,
            "producer": envelope.producer,
            "id": str(envelope.attributes.get("id", "")),
        }
        duplicate = any(outcome == "duplicate" for _, outcome in pairs)
        docs: list[dict[str, Any]] = [
            {
                "_aws": self._metadata(timestamp_ms, ["service"], _EVENT_METRICS),
                "service": self.service,
                "EventsReceived": 1,
                "NoMatch": 0 if result.matched else 1,
                "Duplicate": 1 if duplicate else 0,
                **identity,
            }
        ]
        for handler, outcome in pairs:
            if handler == NO_HANDLER:
                continue
            counts = dict.fromkeys(_HANDLER_COUNTS.values(), 0)
            counts[_HANDLER_COUNTS[outcome]] = 1
            ran = handler in durations
            definitions = [*_HANDLER_METRICS, _DURATION] if ran else _HANDLER_METRICS
            doc: dict[str, Any] = {
                "_aws": self._metadata(timestamp_ms, ["service", "handler"], definitions),
                "service": self.service,
                "handler": handler,
                **counts,
            }
            if ran:
                doc["HandlerDuration"] = round(durations[handler] * 1000.0, 3)
            doc.update(identity)
            docs.append(doc)
        return docs

    def _metadata(
        self, timestamp_ms: int, dimensions: list[str], definitions: list[dict[str, str]]
    ) -> dict[str, Any]:
        return {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": self.namespace,
                    "Dimensions": [dimensions],
                    "Metrics": definitions,
                }
            ],
        }

    def write(self, docs: list[dict[str, Any]]) -> None:
        """Print each document as one line (one write, so lines of threads never mix)."""
        text = "".join(json.dumps(doc, separators=(",", ":")) + "\n" for doc in docs)
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(text)
            stream.flush()

    def __repr__(self) -> str:
        return f"<EMFMetrics namespace={self.namespace!r} service={self.service!r}>"


class _EMFObserver(DispatchObserver):
    """Collects one event's handler durations and writes its lines when it is done."""

    def __init__(self, emf: EMFMetrics, router: Router) -> None:
        self.emf = emf
        self.router = router

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        return (envelope, {})

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        durations: dict[str, float] = state[1]
        durations[route.name] = durations.get(route.name, 0.0) + seconds

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        envelope, durations = state
        pairs = list(outcomes(self.router, result))
        now = int(time.time() * 1000)
        self.emf.write(self.emf.documents(envelope, result, pairs, durations, now))
