"""The event router's metrics: ``/stats`` (expvar JSON) and Prometheus ``/metrics``.

VEBA's router serves its counters with Go's ``expvar`` at ``/stats`` on the RouterConfig's
``metricsProvider.default.bindAddress``, behind the optional basic auth of that section.
:class:`StatsServer` serves the same document::

    {"cmdline": [...], "system.numberOfSeconds": 12, "system.programName": "veba",
     "system.lastLoad": 0.1, "system.allLoad": {"Load1": 0.1, "Load5": 0.2, "Load15": 0.2},
     "vmware.event.router.stats": {
        "vcenter": {"type": "provider", "address": "https://vc01/sdk",
                    "started": "2024-01-01T00:00:00.123Z", "events_total": 17,
                    "events_err": 1, "events_per_sec": 0.5},
        "openfaas": {"type": "processor", "address": "http://gateway:8080",
                     "started": "...", "invocations": {
                        "VmPoweredOnEvent": {"SuccessCount": 3, "FailureCount": 1}}}}}

``events_total`` counts the events read from vCenter and handed to the processor;
``events_err`` the events whose delivery failed at least once (they are retried, never
skipped). ``SuccessCount``/``FailureCount`` count calls to the processor for a subject:
for OpenFaaS one per function invocation, for EventBridge one per entry sent, for Knative
one per POST; a retried call counts once per attempt.

``/metrics`` answers the same counters in the Prometheus text format (with the
``prometheus-client`` package of the ``source`` extra): ``veba_listen_events_total``,
``veba_listen_event_errors_total``, ``veba_listen_invocations_total{outcome=...}``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from veba_sdk._extras import needs_extra
from veba_sdk.wire import JSON_MEDIA_TYPE

__all__ = [
    "ProcessorStats",
    "ProviderStats",
    "StatsServer",
    "parse_bind_address",
]

logger = logging.getLogger("veba_sdk.source")

STATS_MAP = "vmware.event.router.stats"


def _go_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC as Go's ``time.Time`` marshals it (fraction trimmed, ``Z``)."""
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "Z"


class ProviderStats:
    """Counters of an event provider (the vCenter source): events read and failed.

    Thread-safe; the source calls :meth:`event` once per event it hands to the processor
    and :meth:`error` once per event whose first delivery attempt failed.
    """

    kind = "provider"

    def __init__(self, provider: str, address: str) -> None:
        self.provider = provider
        self.address = address
        self.started = dt.datetime.now(dt.UTC)
        self._monotonic = time.monotonic()
        self._lock = threading.Lock()
        self.events_total = 0
        self.events_err = 0

    def event(self, count: int = 1) -> None:
        """Count ``count`` events handed to the processor."""
        with self._lock:
            self.events_total += count

    def error(self, count: int = 1) -> None:
        """Count ``count`` events whose delivery failed (at least once)."""
        with self._lock:
            self.events_err += count

    def snapshot(self) -> dict[str, Any]:
        """The router's JSON for this provider."""
        with self._lock:
            total, errors = self.events_total, self.events_err
        elapsed = max(time.monotonic() - self._monotonic, 1e-9)
        return {
            "type": self.kind,
            "address": self.address,
            "started": _go_time(self.started),
            "events_total": total,
            "events_err": errors,
            "events_per_sec": round(total / elapsed, 2),
        }

    def __repr__(self) -> str:
        return f"ProviderStats({self.provider!r}, total={self.events_total})"


class ProcessorStats:
    """Counters of an event processor: successful and failed calls per event subject."""

    kind = "processor"

    def __init__(self, provider: str, address: str) -> None:
        self.provider = provider
        self.address = address
        self.started = dt.datetime.now(dt.UTC)
        self._lock = threading.Lock()
        self._invocations: dict[str, list[int]] = {}

    def success(self, subject: str, count: int = 1) -> None:
        """Count ``count`` successful calls for ``subject``."""
        with self._lock:
            self._invocations.setdefault(subject, [0, 0])[0] += count

    def failure(self, subject: str, count: int = 1) -> None:
        """Count ``count`` failed calls for ``subject``."""
        with self._lock:
            self._invocations.setdefault(subject, [0, 0])[1] += count

    def invocations(self) -> dict[str, dict[str, int]]:
        """``{subject: {"SuccessCount": n, "FailureCount": m}}``."""
        with self._lock:
            return {
                subject: {"SuccessCount": ok, "FailureCount": failed}
                for subject, (ok, failed) in self._invocations.items()
            }

    def snapshot(self) -> dict[str, Any]:
        """The router's JSON for this processor (``invocations`` omitted while empty)."""
        document: dict[str, Any] = {
            "type": self.kind,
            "address": self.address,
            "started": _go_time(self.started),
        }
        invocations = self.invocations()
        if invocations:
            document["invocations"] = invocations
        return document

    def __repr__(self) -> str:
        return f"ProcessorStats({self.provider!r}, {self.address!r})"


Stats = ProviderStats | ProcessorStats


def subject_of(attributes: dict[str, Any]) -> str:
    """The name the router files invocations under: the subject, else the type."""
    return str(attributes.get("subject") or attributes.get("type") or "")


def parse_bind_address(address: str) -> tuple[str, int]:
    """``host:port`` (Go's form: ``:8082`` is every interface, ``[::1]:8082`` IPv6)."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"bindAddress must be host:port, not {address!r}")
    host = host.strip("[]")
    return host or "0.0.0.0", int(port_text)


def _load_average() -> tuple[float, float, float]:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return 0.0, 0.0, 0.0
    return one, five, fifteen


class StatsServer:
    """Serve ``GET /stats`` (and ``GET /metrics``) for ``stats`` on ``bind_address``.

    With ``username``/``password`` every request needs that basic auth (401 otherwise).
    :meth:`start` binds (port 0 picks a free port; :attr:`url` tells which) and serves on a
    daemon thread; :meth:`close` stops it. The password never appears in reprs or logs.
    """

    def __init__(
        self,
        bind_address: str,
        stats: Sequence[Stats],
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port = parse_bind_address(bind_address)
        self.stats = list(stats)
        self._credentials = (
            (username.encode("utf-8"), (password or "").encode("utf-8"))
            if username is not None
            else None
        )
        self._started = time.monotonic()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server (the bound port)."""
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def document(self) -> dict[str, Any]:
        """The ``/stats`` JSON document (see the module docstring)."""
        one, five, fifteen = _load_average()
        return {
            "cmdline": list(sys.argv),
            "system.numberOfSeconds": int(time.monotonic() - self._started),
            "system.programName": sys.argv[0] if sys.argv else "",
            "system.lastLoad": one,
            "system.allLoad": {"Load1": one, "Load5": five, "Load15": fifteen},
            STATS_MAP: {item.provider: item.snapshot() for item in self.stats},
        }

    def prometheus(self) -> bytes:
        """The counters in the Prometheus text exposition format."""

        with needs_extra("source", "veba listen's /metrics"):
            from prometheus_client import CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self.stats))
        return bytes(generate_latest(registry))

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the configured basic auth."""
        if self._credentials is None:
            return True
        if not header or header[:6].lower() != "basic ":
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        if not sep:
            return False
        # Both compared in constant time, and both always compared.
        user_ok = hmac.compare_digest(user, self._credentials[0])
        password_ok = hmac.compare_digest(password, self._credentials[1])
        return user_ok and password_ok

    def start(self) -> StatsServer:
        """Bind and serve on a daemon thread; returns ``self``.

        Raises:
            OSError: the address cannot be bound (in use, not local).
        """
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5.0  # seconds a client may take to send its request

            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                if path not in ("/stats", "/metrics"):
                    self._answer(404, b"not found\n", "text/plain; charset=utf-8")
                    return
                if not owner.authorized(self.headers.get("authorization")):
                    self._answer(
                        401,
                        b"invalid credentials",
                        "text/plain; charset=utf-8",
                        {"WWW-Authenticate": 'Basic realm="Restricted"'},
                    )
                    return
                if path == "/stats":
                    body = json.dumps(owner.document(), indent=1).encode("utf-8")
                    self._answer(200, body + b"\n", f"{JSON_MEDIA_TYPE}; charset=utf-8")
                    return
                try:
                    text = owner.prometheus()
                except ModuleNotFoundError as exc:
                    self._answer(501, f"{exc}\n".encode(), "text/plain; charset=utf-8")
                    return
                self._answer(200, text, "text/plain; version=0.0.4; charset=utf-8")

            def _answer(
                self,
                status: int,
                body: bytes,
                content_type: str,
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("metrics: %s", format % args)

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name="veba-stats", daemon=True
        )
        self._thread.start()
        logger.info("serving metrics on %s/stats and %s/metrics", self.url, self.url)
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> StatsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        auth = ", basic auth" if self._credentials else ""
        return f"StatsServer({self.host!r}, {self.port}{auth})"


class _Collector:
    """A prometheus-client collector reading the counters at scrape time."""

    def __init__(self, stats: Sequence[Stats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        events = CounterMetricFamily(
            "veba_listen_events",
            "Events read from the event provider and handed to the processor.",
            labels=["provider", "address"],
        )
        errors = CounterMetricFamily(
            "veba_listen_event_errors",
            "Events whose delivery failed at least once (retried, never skipped).",
            labels=["provider", "address"],
        )
        started = GaugeMetricFamily(
            "veba_listen_started_seconds",
            "Unix time the provider or processor started.",
            labels=["provider", "type"],
        )
        invocations = CounterMetricFamily(
            "veba_listen_invocations",
            "Calls to the event processor per event subject and outcome.",
            labels=["processor", "subject", "outcome"],
        )
        for item in self.stats:
            started.add_metric([item.provider, item.kind], item.started.timestamp())
            if isinstance(item, ProviderStats):
                snap = item.snapshot()
                events.add_metric([item.provider, item.address], snap["events_total"])
                errors.add_metric([item.provider, item.address], snap["events_err"])
            else:
                for subject, counts in item.invocations().items():
                    invocations.add_metric(
                        [item.provider, subject, "success"], counts["SuccessCount"]
                    )
                    invocations.add_metric(
                        [item.provider, subject, "failure"], counts["FailureCount"]
                    )
        yield events
        yield errors
        yield started
        yield invocations
