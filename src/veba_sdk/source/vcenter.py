"""Tail vCenter's events with pyvmomi and deliver each one, at least once, in key order.

:class:`VCenterSource` does what VEBA's event router does with its ``vcenter`` provider:

1. log in (TLS verified unless told otherwise) and ask vCenter for its current time;
2. create an ``EventHistoryCollector`` for every event under the root folder, beginning
   "now", or at the checkpoint's last event time when a checkpoint exists (bounded by
   ``checkpoint_max_age``, one hour by default as in the router);
3. call ``ReadNextEvents`` every ``poll_interval`` seconds (at once again when a full page
   came back) and deliver the events in key order, skipping those already delivered
   (key and time not after the last delivered event);
4. after each delivery, persist the checkpoint atomically.

A target with a ``batch_size`` above 1 and a ``deliver_batch(items)`` method (the
EventBridge processor) gets up to that many events of one page at once, in key order; the
checkpoint is saved after each accepted batch.

A failing delivery is retried with exponential backoff (stamina) until it succeeds: an event
is never skipped, so a broken target stalls the stream rather than losing events. Lost
sessions, vCenter restarts and network errors end the collector; the source logs in again
with backoff and continues after the last delivered event. ``SIGTERM``/``SIGINT`` stop it
cleanly: an event being delivered finishes (and is checkpointed) first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import logging
import signal
import ssl
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from veba_sdk._errors import VebaError
from veba_sdk._extras import needs_extra

with needs_extra("source", "veba_sdk.source"):
    import stamina
    from pyVim import connect as _pyvim_connect
    from pyVmomi import vim as _vim
    from pyVmomi import vmodl as _vmodl

from veba_sdk.source.checkpoint import Checkpoint, CheckpointStore, checkpoint_path
from veba_sdk.source.delivery import PRODUCERS, Deliver, cloudevent_attributes
from veba_sdk.source.payload import (
    event_category,
    event_class_name,
    event_name,
    rfc3339,
    to_govmomi_json,
)
from veba_sdk.source.stats import ProviderStats

__all__ = ["DEFAULT_CHECKPOINT_MAX_AGE", "SourceError", "VCenterSource"]

logger = logging.getLogger("veba_sdk.source")

# pyVmomi's dynamic types and pyVim's helpers are only partly annotated.
vim: Any = _vim
vmodl: Any = _vmodl
SmartConnect: Any = _pyvim_connect.SmartConnect
Disconnect: Any = _pyvim_connect.Disconnect

DEFAULT_CHECKPOINT_MAX_AGE = dt.timedelta(hours=1)

# Errors that mean "the session or the connection is gone": log in again.
_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    vmodl.MethodFault,
    OSError,
    http.client.HTTPException,
)


class SourceError(VebaError):
    """The event source cannot start (bad credentials, untrusted certificate, bad address)."""


class _Ready:
    """A vCenter event ready to deliver: its key, time, class and CloudEvent."""

    __slots__ = ("attributes", "class_name", "created", "data", "key")

    def __init__(
        self,
        key: int,
        created: dt.datetime,
        class_name: str,
        attributes: dict[str, Any],
        data: dict[str, Any],
    ) -> None:
        self.key = key
        self.created = created
        self.class_name = class_name
        self.attributes = attributes
        self.data = data


class _Stop(BaseException):
    """Raised inside the source loop to unwind on shutdown (never escapes :meth:`run`)."""


def _parse_address(address: str) -> tuple[str, str, int, str]:
    """``https://vc01/sdk`` -> (scheme, host, port, path); bare host names get https and /sdk."""
    text = address if "://" in address else f"https://{address}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"vCenter address must be http(s)://host[:port]/sdk, not {address!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port, parts.path or "/sdk"


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class VCenterSource:
    """A vCenter event stream delivering to ``deliver(attributes, data)``.

    Args:
        address: ``https://vc01.corp.local/sdk`` (a bare host name means https and ``/sdk``).
        username, password: vCenter credentials (never logged or shown in reprs).
        deliver: the delivery target; it must raise when the event was not accepted.
        verify: verify vCenter's TLS certificate (``False`` is RouterConfig's
            ``insecureSSL: true``), or an ``ssl.SSLContext`` to use.
        root_cas: extra trusted CA certificates, PEM text (RouterConfig ``certificates``).
        producer: CloudEvent shape, ``"router"`` or ``"vsphere-source"``.
        checkpoint_dir: persist checkpoints in ``<dir>/cp-<host>.json``; ``None`` disables.
        checkpoint_max_age: how far back a checkpoint may replay (``None``: no limit).
        page_size: ``ReadNextEvents`` batch size (at most 1000).
        poll_interval: seconds between reads while no events arrive. The defaults (1000,
            0.1 s) gave the best latency for about 1 % of a core while idle in
            benchmarks/bench_source.py (docs/performance.md); VEBA's router polls every 1 s.
        reconnect_wait_max, delivery_wait_max: caps of the exponential backoffs, seconds.
        http_timeout: socket timeout of vCenter calls, seconds.
        stats: the provider counters for ``/stats`` (made when not given).
    """

    def __init__(
        self,
        address: str,
        *,
        username: str,
        password: str,
        deliver: Deliver,
        verify: bool | ssl.SSLContext = True,
        root_cas: Sequence[str] = (),
        producer: str = "router",
        checkpoint_dir: str | None = None,
        checkpoint_max_age: dt.timedelta | None = DEFAULT_CHECKPOINT_MAX_AGE,
        page_size: int = 1000,
        poll_interval: float = 0.1,
        reconnect_wait_max: float = 30.0,
        delivery_wait_max: float = 10.0,
        http_timeout: float = 30.0,
        stats: ProviderStats | None = None,
    ) -> None:
        if producer not in PRODUCERS:
            raise ValueError(f"producer must be one of {', '.join(PRODUCERS)}, not {producer!r}")
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.scheme, self.host, self.port, self.path = _parse_address(address)
        self.source_url = f"{self.scheme}://{self.host}:{self.port}{self.path}"
        self._username = username
        self._password = password
        self.deliver = deliver
        self.verify = verify
        self.root_cas = tuple(root_cas)
        self.producer = producer
        self.checkpoint_max_age = checkpoint_max_age
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.reconnect_wait_max = reconnect_wait_max
        self.delivery_wait_max = delivery_wait_max
        self.http_timeout = http_timeout
        self.store = (
            CheckpointStore(checkpoint_path(checkpoint_dir, self.host)) if checkpoint_dir else None
        )
        self.stats = stats or ProviderStats("vcenter", self.source_url)
        self.delivered = 0
        self.reconnects = 0
        self.api_version = ""
        self._si: Any = None
        self._last: tuple[int, dt.datetime] | None = None
        self._start: dt.datetime | None = None
        self._stop = threading.Event()
        self._interruptible = False
        self._connected_once = False

    def __repr__(self) -> str:
        return f"VCenterSource({self.source_url!r}, producer={self.producer!r})"

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the source to stop; :meth:`run` returns after the current delivery."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (or a signal received)."""
        return self._stop.is_set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("received signal %d, stopping", signum)
        self._stop.set()
        if self._interruptible:
            raise _Stop

    @contextlib.contextmanager
    def _interruptible_section(self) -> Iterator[None]:
        """Code a signal may abandon: waits, reads, logins (never a delivery)."""
        self._check_stop()
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise _Stop

    def _wait(self, seconds: float) -> None:
        with self._interruptible_section():
            self._stop.wait(seconds)
        self._check_stop()

    def run(self, *, handle_signals: bool = True) -> None:
        """Stream until :meth:`stop`, or SIGTERM/SIGINT when ``handle_signals`` (main thread).

        Raises:
            SourceError: the first login failed for a reason retrying cannot fix.
            CheckpointError: the checkpoint cannot be read or written.
        """
        previous: dict[signal.Signals, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self._load_checkpoint()
            while True:
                try:
                    self._connect()
                    self._stream()
                except _CONNECTION_ERRORS as exc:
                    self.reconnects += 1
                    logger.warning(
                        "lost vCenter %s (%s); reconnecting", self.source_url, _brief(exc)
                    )
                    self._close()
        except _Stop:
            logger.info("stopped after %d events", self.delivered)
        finally:
            self._close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    # -- connection ------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        if isinstance(self.verify, ssl.SSLContext):
            return self.verify
        context = ssl.create_default_context()
        if self.root_cas:
            context.load_verify_locations(cadata="\n".join(self.root_cas))
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _login(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.scheme == "https":
            kwargs["sslContext"] = self._ssl_context()
        try:
            si = SmartConnect(
                protocol=self.scheme,
                host=self.host,
                port=self.port,
                path=self.path,
                user=self._username,
                pwd=self._password,
                httpConnectionTimeout=self.http_timeout,
                **kwargs,
            )
        except vim.fault.InvalidLogin as exc:
            if not self._connected_once:
                raise SourceError(f"vCenter {self.source_url} rejected the login") from None
            raise OSError("login rejected") from exc
        except ssl.SSLCertVerificationError as exc:
            if not self._connected_once:
                raise SourceError(
                    f"cannot verify vCenter {self.source_url}'s TLS certificate "
                    f"({exc.verify_message}); trust its CA, or set insecureSSL: true"
                ) from None
            raise
        self._si = si
        self.api_version = str(si.content.about.apiVersion)
        self._connected_once = True

    def _connect(self) -> None:
        retrying = stamina.retry_context(
            on=_CONNECTION_ERRORS,
            attempts=None,
            timeout=None,
            wait_initial=0.2,
            wait_max=self.reconnect_wait_max,
        )
        for attempt in self._attempts(retrying):
            with attempt:
                try:
                    with self._interruptible_section():
                        self._login()
                except _CONNECTION_ERRORS as exc:
                    logger.warning(
                        "cannot reach vCenter %s (%s); retrying", self.source_url, _brief(exc)
                    )
                    raise
        logger.info("connected to vCenter %s (API %s)", self.source_url, self.api_version)

    def _close(self) -> None:
        si, self._si = self._si, None
        if si is not None:
            with contextlib.suppress(Exception):
                Disconnect(si)

    def _attempts(self, retrying: Any) -> Iterator[Any]:
        """stamina attempts whose backoff sleeps a signal may cut short."""
        iterator = iter(retrying)
        while True:
            with self._interruptible_section():
                try:
                    attempt = next(iterator)
                except StopIteration:
                    return
            yield attempt

    # -- streaming -------------------------------------------------------------------------

    def _load_checkpoint(self) -> None:
        if self.store is None or self._last is not None:
            return
        checkpoint = self.store.load()
        if checkpoint is not None:
            self._last = (checkpoint.last_event_key, checkpoint.last_event_time)
            self._start = checkpoint.last_event_time
            logger.info(
                "resuming after event %d (%s) from %s",
                checkpoint.last_event_key,
                rfc3339(checkpoint.last_event_time),
                self.store.path,
            )

    def _begin(self, now: dt.datetime) -> dt.datetime:
        if self._start is None:
            self._start = now
        begin = self._last[1] if self._last is not None else self._start
        if self.checkpoint_max_age is not None and begin < now - self.checkpoint_max_age:
            logger.warning("checkpoint older than %s: replaying from then", self.checkpoint_max_age)
            begin = now - self.checkpoint_max_age
        return begin

    def _stream(self) -> None:
        si = self._si
        with self._interruptible_section():
            now = _as_utc(si.CurrentTime())
        begin = self._begin(now)
        spec = vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(
                entity=si.content.rootFolder, recursion="all"
            ),
            time=vim.event.EventFilterSpec.ByTime(beginTime=begin),
        )
        with self._interruptible_section():
            collector = si.content.eventManager.CreateCollectorForEvents(spec)
        logger.info("streaming events from %s", rfc3339(begin))
        try:
            while True:
                with self._interruptible_section():
                    events = collector.ReadNextEvents(self.page_size)
                ready = [
                    item
                    for item in (
                        self._prepare(event, begin)
                        for event in sorted(events, key=lambda e: int(e.key))
                    )
                    if item is not None
                ]
                size = self._batch_size()
                for start in range(0, len(ready), size):
                    self._check_stop()
                    self._deliver_all(ready[start : start + size])
                if len(events) < self.page_size:
                    self._wait(self.poll_interval)
        finally:
            with contextlib.suppress(Exception):
                collector.DestroyCollector()

    def _prepare(self, event: Any, begin: dt.datetime) -> _Ready | None:
        """The CloudEvent of a vCenter event, or ``None`` when it must not be delivered."""
        key = int(event.key)
        created = _as_utc(event.createdTime)
        if created < begin:
            return None  # before the stream's start (servers that ignore the time filter)
        if self._last is not None and key <= self._last[0] and created <= self._last[1]:
            return None  # delivered already (replayed after a reconnect or restart)
        attributes = cloudevent_attributes(
            producer=self.producer,
            name=event_name(event),
            category=event_category(event),
            key=key,
            created=rfc3339(created),
            source=self.source_url,
            api_version=self.api_version,
        )
        return _Ready(key, created, event_class_name(event), attributes, to_govmomi_json(event))

    def _batch_size(self) -> int:
        if not callable(getattr(self.deliver, "deliver_batch", None)):
            return 1
        return max(1, int(getattr(self.deliver, "batch_size", 1)))

    def _deliver_all(self, ready: list[_Ready]) -> None:
        """Deliver events (one, or a batch), then record and checkpoint the last one."""
        self.stats.event(len(ready))
        self._deliver(ready)
        last = ready[-1]
        self._last = (last.key, last.created)
        self.delivered += len(ready)
        if self.store is not None:
            self.store.save(
                Checkpoint(
                    vcenter=self.host,
                    last_event_key=last.key,
                    last_event_type=last.class_name,
                    last_event_time=last.created,
                    last_event_uuid=str(last.attributes["id"]),
                )
            )

    def _deliver(self, ready: list[_Ready]) -> None:
        retrying = stamina.retry_context(
            on=Exception,
            attempts=None,
            timeout=None,
            wait_initial=0.05,
            wait_max=self.delivery_wait_max,
        )
        batch = getattr(self.deliver, "deliver_batch", None) if len(ready) > 1 else None
        keys = f"{ready[0].key}" if len(ready) == 1 else f"{ready[0].key}..{ready[-1].key}"
        failed_once = False
        for attempt in self._attempts(retrying):
            with attempt:
                self._check_stop()
                try:
                    if batch is not None:
                        batch([(item.attributes, item.data) for item in ready])
                    else:
                        for item in ready:
                            self.deliver(item.attributes, item.data)
                except Exception as exc:
                    if not failed_once:
                        failed_once = True
                        self.stats.error(int(getattr(exc, "failed_count", 0) or len(ready)))
                    logger.warning(
                        "delivery of event %s failed (attempt %d): %s",
                        keys,
                        attempt.num,
                        _brief(exc),
                    )
                    raise


def _brief(exc: BaseException) -> str:
    text = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {' '.join(str(text).split())[:200]}"
