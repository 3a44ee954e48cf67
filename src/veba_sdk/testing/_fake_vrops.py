"""``FakeVrops``: an in-process, stateful stand-in for the vROps endpoints the SDK uses.

It behaves like the real API where a client could tell the difference:

* tokens from ``POST /suite-api/api/auth/token/acquire`` carry a ``validity``
  (epoch ms, sliding with use); an expired or unknown token gets 401 with
  ``apiErrorCode`` 1512; release forgets the token;
* ``name=`` matches partially (case-insensitive), pages are 0-based, and
  ``identifiers[VMEntityObjectID]=host-19&identifiers[VMEntityVCID]=...``
  selects by vCenter identity;
* ``PUT .../maintained`` with ``duration`` or ``end`` gives ``MAINTAINED``
  (which ends by itself), without gives ``MAINTAINED_MANUAL``; ``DELETE``
  gives ``STARTED``;
* alerts (query, suspend, notes), properties, events and the node status.

Faults: :meth:`FakeVrops.expire_tokens`, :meth:`FakeVrops.fail_next` (401,
429, 503 ... with ``Retry-After``), :meth:`FakeVrops.reset_next` (a dropped
connection), :meth:`FakeVrops.delay`, :meth:`FakeVrops.set_online`.
Every request is counted per endpoint (:attr:`FakeVrops.counts`), and
protocol slips by the client (a missing ``Accept: application/json``, an
``Authorization`` header on acquire) are listed in :attr:`FakeVrops.violations`.

Use it through ``httpx`` in-process (:meth:`FakeVrops.transport` for async
clients, :meth:`FakeVrops.sync_transport` for sync ones: ``httpx.MockTransport``),
or served on loopback by uvicorn (:meth:`FakeVrops.serve`). The parts live in
:mod:`veba_sdk.testing._vrops`, one job per module; this class is their face.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from veba_sdk._extras import needs_extra

with needs_extra("vrops", "veba_sdk.testing.FakeVrops"):
    import httpx

from veba_sdk.testing._vrops.exchange import Exchange
from veba_sdk.testing._vrops.faults import Fault, Faults
from veba_sdk.testing._vrops.http import (
    LogLevel,
    Receive,
    Scope,
    Send,
    asgi_app,
    async_transport,
    serve,
    sync_transport,
)
from veba_sdk.testing._vrops.records import (
    TOKEN_EXPIRED_CODE,
    AlertRecord,
    RecordedCall,
    ResourceRecord,
    ResourceStateName,
)
from veba_sdk.testing._vrops.state import State

if TYPE_CHECKING:
    from veba_sdk.vrops import AsyncVropsClient, VropsClient

__all__ = ["FakeVrops", "RecordedCall"]

DEFAULT_VCENTER_UUID = "6c3a0c2a-1e8b-4b8e-9d3f-2f7a1d0e5b01"


class FakeVrops:
    """A stateful vROps stand-in: an ASGI app plus seeding, fault and counting helpers.

    Args:
        username, password, auth_source: the only credentials that acquire a
            token (``auth_source=None`` accepts any).
        token_lifetime: seconds a token stays valid after its last use.
        clock: seconds since the epoch; injectable.
    """

    DEFAULT_VCENTER_UUID = DEFAULT_VCENTER_UUID

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "fake-Passw0rd!",
        auth_source: str | None = None,
        token_lifetime: float = 6 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = State(
            username=username,
            password=password,
            auth_source=auth_source,
            token_lifetime=token_lifetime,
            clock=clock,
        )
        self._faults = Faults()
        self._exchange = Exchange(self._state, self._faults)
        self._asgi = asgi_app(self._exchange)

    def __repr__(self) -> str:
        state = self._state
        return (
            f"FakeVrops(resources={len(state.resources)}, alerts={len(state.alerts)}, "
            f"tokens={len(state.tokens)})"
        )

    # ------------------------------------------------------------------ settings and records

    @property
    def username(self) -> str:
        """The one user that acquires a token."""
        return self._state.username

    @username.setter
    def username(self, value: str) -> None:
        self._state.username = value

    @property
    def auth_source(self) -> str | None:
        """The auth source an acquire must name (``None``: any)."""
        return self._state.auth_source

    @auth_source.setter
    def auth_source(self, value: str | None) -> None:
        self._state.auth_source = value

    @property
    def token_lifetime(self) -> float:
        """Seconds a token stays valid after its last use."""
        return self._state.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: float) -> None:
        self._state.token_lifetime = value

    @property
    def events(self) -> list[dict[str, Any]]:
        """Pushed events, as received."""
        return self._state.events

    @property
    def issued_tokens(self) -> list[str]:
        """Every token handed out (so tests can assert none leaks into logs)."""
        return self._state.issued_tokens

    @property
    def counts(self) -> collections.Counter[str]:
        """Requests per endpoint, keyed ``"PUT /api/resources/{id}/maintained"``."""
        return self._state.counts

    @property
    def calls(self) -> list[RecordedCall]:
        """Every answered request, in order."""
        return self._state.calls

    @property
    def violations(self) -> list[str]:
        """Protocol slips by clients (missing Accept, Authorization on acquire ...)."""
        return self._state.violations

    @property
    def _resources(self) -> dict[str, ResourceRecord]:
        """The stored resources by id (tests remove one to mimic a deletion)."""
        return self._state.resources

    # ------------------------------------------------------------------ seeding

    def add_resource(
        self,
        name: str,
        *,
        adapter_kind: str = "VMWARE",
        resource_kind: str = "VirtualMachine",
        identifiers: Mapping[str, str] | None = None,
        state: ResourceStateName = "STARTED",
    ) -> str:
        """Add any resource; returns its id (a UUID)."""
        rid = str(uuid.uuid4())
        with self._state.lock:
            self._state.resources[rid] = ResourceRecord(
                id=rid,
                name=name,
                adapter_kind=adapter_kind,
                resource_kind=resource_kind,
                identifiers=dict(identifiers or {}),
                created_ms=self._state.now_ms(),
                state=state,
            )
        return rid

    def add_host(
        self,
        name: str,
        moref: str | None = None,
        vcenter_uuid: str = DEFAULT_VCENTER_UUID,
        *,
        state: ResourceStateName = "STARTED",
    ) -> str:
        """Add a VMWARE/HostSystem resource; returns its id.

        ``moref`` defaults to the next free ``host-N`` (from ``host-19``).
        """
        with self._state.lock:
            if moref is None:
                moref = f"host-{self._state.next_moref}"
                self._state.next_moref += 1
            return self.add_resource(
                name,
                adapter_kind="VMWARE",
                resource_kind="HostSystem",
                identifiers={
                    "VMEntityName": name,
                    "VMEntityObjectID": moref,
                    "VMEntityVCID": vcenter_uuid,
                },
                state=state,
            )

    def add_alert(
        self, resource_id: str, *, name: str = "Host has lost redundancy", level: str = "WARNING"
    ) -> str:
        """Add an active alert on a resource; returns its id."""
        aid = str(uuid.uuid4())
        with self._state.lock:
            self._state.resource(resource_id)
            self._state.alerts[aid] = AlertRecord(
                id=aid,
                resource_id=resource_id,
                name=name,
                level=level,
                start_ms=self._state.now_ms(),
            )
        return aid

    def state_of(self, name_or_id: str) -> str:
        """The ``resourceState`` (``STARTED``, ``MAINTAINED``, ``MAINTAINED_MANUAL``)."""
        with self._state.lock:
            res = self._state.find(name_or_id)
            self._state.expire_maintenance(res)
            return res.state

    def maintained_until(self, name_or_id: str) -> dt.datetime | None:
        """When a timed maintenance ends, or ``None``."""
        res = self._state.find(name_or_id)
        if res.maintained_until_ms is None:
            return None
        return dt.datetime.fromtimestamp(res.maintained_until_ms / 1000, tz=dt.UTC)

    def properties_of(self, name_or_id: str) -> dict[str, Any]:
        """Latest pushed property values by stat key."""
        return dict(self._state.find(name_or_id).properties)

    def alert(self, alert_id: str) -> dict[str, Any]:
        """An alert as the API shows it, plus its ``notes``."""
        with self._state.lock:
            a = self._state.alerts[alert_id]
            return {**self._state.alert_json(a), "notes": list(a.notes)}

    @property
    def live_tokens(self) -> int:
        """Tokens acquired and neither released nor expired."""
        now = self._state.now_ms()
        with self._state.lock:
            return sum(1 for v in self._state.tokens.values() if v > now)

    @property
    def acquires(self) -> int:
        """How many token acquires were requested."""
        return self.counts["POST /api/auth/token/acquire"]

    def total_requests(self) -> int:
        """All requests counted since the last :meth:`reset_counts`."""
        return sum(self.counts.values())

    def reset_counts(self) -> None:
        """Zero the counters and forget recorded calls."""
        with self._state.lock:
            self.counts.clear()
            self.calls.clear()

    # ------------------------------------------------------------------ faults

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (next use: 401, apiErrorCode 1512)."""
        with self._state.lock:
            for token in self._state.tokens:
                self._state.tokens[token] = 0

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        *,
        retry_after: float | None = None,
        path: str | None = None,
        api_error_code: int | None = None,
    ) -> None:
        """Answer the next ``n`` requests (whose path contains ``path``) with ``status``.

        401 carries ``apiErrorCode`` 1512 unless another code is given;
        ``retry_after`` adds a ``Retry-After`` header (seconds).
        """
        if status == 401 and api_error_code is None:
            api_error_code = TOKEN_EXPIRED_CODE
        with self._state.lock:
            self._faults.add(
                Fault(
                    remaining=n,
                    status=status,
                    retry_after=retry_after,
                    api_error_code=api_error_code,
                    path=path,
                )
            )

    def clear_faults(self) -> None:
        """Forget every pending fault injected by :meth:`fail_next` or :meth:`reset_next`."""
        with self._state.lock:
            self._faults.clear()

    def reset_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Drop the connection of the next ``n`` requests without processing them."""
        with self._state.lock:
            self._faults.add(Fault(remaining=n, status=None, path=path))

    def delay(self, seconds: float, n: int | None = None) -> None:
        """Answer the next ``n`` requests (all, if ``None``) ``seconds`` late."""
        with self._state.lock:
            self._faults.set_delay(seconds, n)

    def set_online(self, online: bool) -> None:
        """Make the node status report ONLINE (200) or offline (503)."""
        self._state.online = online

    # ------------------------------------------------------------------ front ends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application (what :meth:`serve` runs under uvicorn)."""
        await self._asgi(scope, receive, send)

    def transport(self) -> httpx.MockTransport:
        """An in-process transport for :class:`httpx.AsyncClient` / ``AsyncVropsClient``."""
        return async_transport(self._exchange)

    def sync_transport(self) -> httpx.MockTransport:
        """An in-process transport for :class:`httpx.Client` / ``VropsClient``."""
        return sync_transport(self._exchange)

    #: The base URL of :meth:`client` and :meth:`async_client` (nothing listens there).
    URL = "https://vrops.test"

    def client(self, **options: Any) -> VropsClient:
        """A ready :class:`~veba_sdk.vrops.VropsClient` answered by this fake in-process.

        ``options`` go to the client (``cache_host_ids=True``, ``retry=...``). Close it, or
        use it as a context manager. The ``vrops_client`` fixture makes one and sets it as
        ``VropsClient.shared()`` for the test.
        """
        from veba_sdk.vrops import VropsClient

        return VropsClient(
            self.URL,
            self.username,
            self._state.password,
            auth_source=self.auth_source,
            transport=self.sync_transport(),
            **options,
        )

    def async_client(self, **options: Any) -> AsyncVropsClient:
        """A ready :class:`~veba_sdk.vrops.AsyncVropsClient` answered by this fake in-process."""
        from veba_sdk.vrops import AsyncVropsClient

        return AsyncVropsClient(
            self.URL,
            self.username,
            self._state.password,
            auth_source=self.auth_source,
            transport=self.transport(),
            **options,
        )

    @contextlib.contextmanager
    def serve(self, *, host: str = "127.0.0.1", log_level: LogLevel = "warning") -> Iterator[str]:
        """Serve the fake with uvicorn on a free loopback port; yields the base URL.

        >>> with FakeVrops().serve() as url:           # doctest: +SKIP
        ...     client = VropsClient(url, "admin", "fake-Passw0rd!")
        """
        with serve(self, host=host, log_level=log_level) as url:
            yield url
