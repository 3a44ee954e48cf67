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
clients, :meth:`FakeVrops.sync_transport` for sync ones), or served on
loopback by uvicorn (:meth:`FakeVrops.serve`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import re
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import attrs

from veba_sdk._extras import needs_extra

with needs_extra("vrops", "veba_sdk.testing.FakeVrops"):
    import httpx

if TYPE_CHECKING:
    from veba_sdk.vrops import AsyncVropsClient, VropsClient

__all__ = ["FakeVrops", "RecordedCall"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BASE_PATH = "/suite-api"
#: apiErrorCode vROps sends with 401 for an expired or unknown token
TOKEN_EXPIRED_CODE = 1512
DEFAULT_VCENTER_UUID = "6c3a0c2a-1e8b-4b8e-9d3f-2f7a1d0e5b01"


@attrs.define(kw_only=True)
class RecordedCall:
    """One request the fake answered (secrets are not recorded)."""

    method: str
    path: str
    route: str
    query: list[tuple[str, str]]
    status: int


@attrs.define(kw_only=True)
class _Reply:
    status: int = 200
    body: Any = None
    headers: list[tuple[str, str]] = attrs.field(factory=list)
    delay: float = 0.0
    reset: bool = False

    def encoded(self) -> tuple[list[tuple[bytes, bytes]], bytes]:
        content = b"" if self.body is None else json.dumps(self.body).encode()
        headers = [(k.lower().encode(), v.encode()) for k, v in self.headers]
        if self.body is not None:
            headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(content)).encode()))
        return headers, content


@attrs.define(kw_only=True)
class _Fault:
    remaining: int
    status: int | None = None  # None: reset the connection
    retry_after: float | None = None
    api_error_code: int | None = None
    path: str | None = None

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path


@attrs.define(kw_only=True)
class _Resource:
    id: str
    name: str
    adapter_kind: str
    resource_kind: str
    identifiers: dict[str, str]
    created_ms: int
    state: str = "STARTED"
    maintained_until_ms: int | None = None
    properties: dict[str, Any] = attrs.field(factory=dict)
    adapter_instance_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))


@attrs.define(kw_only=True)
class _Alert:
    id: str
    resource_id: str
    name: str
    level: str
    start_ms: int
    status: str = "ACTIVE"
    control_state: str = "OPEN"
    suspend_until_ms: int = 0
    cancel_ms: int = 0
    notes: list[dict[str, Any]] = attrs.field(factory=list)


class _Error(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        api_error_code: int | None = None,
        failures: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.api_error_code = api_error_code
        self.failures = failures or []

    def reply(self) -> _Reply:
        body: dict[str, Any] = {"message": self.message, "httpStatusCode": self.status}
        if self.api_error_code is not None:
            body["apiErrorCode"] = self.api_error_code
        if self.failures:
            body["validationFailures"] = [
                {"failureMessage": f, "violationPath": ""} for f in self.failures
            ]
        return _Reply(status=self.status, body=body)


@attrs.define(kw_only=True)
class _Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = attrs.field(factory=dict)

    def one(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.one(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise _Error(400, f"query parameter {name} must be an integer") from None

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise _Error(400, "request body is not JSON") from None


Handler = Callable[[_Request], _Reply]


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
        self.username = username
        self.__password = password
        self.auth_source = auth_source
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._lock = threading.RLock()
        self._resources: dict[str, _Resource] = {}
        self._alerts: dict[str, _Alert] = {}
        self._tokens: dict[str, int] = {}  # token -> validity ms
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._delay_remaining: int | None = None
        self._online = True
        self._next_moref = 19
        #: pushed events, as received
        self.events: list[dict[str, Any]] = []
        #: every token handed out (so tests can assert none leaks into logs)
        self.issued_tokens: list[str] = []
        #: requests per endpoint, keyed ``"PUT /api/resources/{id}/maintained"``
        self.counts: collections.Counter[str] = collections.Counter()
        #: every answered request, in order
        self.calls: list[RecordedCall] = []
        #: protocol slips by clients (missing Accept, Authorization on acquire ...)
        self.violations: list[str] = []
        self._routes: list[tuple[str, re.Pattern[str], str, Handler, bool]] = []
        self._install_routes()

    def __repr__(self) -> str:
        return (
            f"FakeVrops(resources={len(self._resources)}, alerts={len(self._alerts)}, "
            f"tokens={len(self._tokens)})"
        )

    # ------------------------------------------------------------------ seeding

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def add_resource(
        self,
        name: str,
        *,
        adapter_kind: str = "VMWARE",
        resource_kind: str = "VirtualMachine",
        identifiers: Mapping[str, str] | None = None,
        state: str = "STARTED",
    ) -> str:
        """Add any resource; returns its id (a UUID)."""
        rid = str(uuid.uuid4())
        with self._lock:
            self._resources[rid] = _Resource(
                id=rid,
                name=name,
                adapter_kind=adapter_kind,
                resource_kind=resource_kind,
                identifiers=dict(identifiers or {}),
                created_ms=self._now_ms(),
                state=state,
            )
        return rid

    def add_host(
        self,
        name: str,
        moref: str | None = None,
        vcenter_uuid: str = DEFAULT_VCENTER_UUID,
        *,
        state: str = "STARTED",
    ) -> str:
        """Add a VMWARE/HostSystem resource; returns its id.

        ``moref`` defaults to the next free ``host-N`` (from ``host-19``).
        """
        with self._lock:
            if moref is None:
                moref = f"host-{self._next_moref}"
                self._next_moref += 1
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
        with self._lock:
            self._resource(resource_id)
            self._alerts[aid] = _Alert(
                id=aid, resource_id=resource_id, name=name, level=level, start_ms=self._now_ms()
            )
        return aid

    def _find(self, name_or_id: str) -> _Resource:
        with self._lock:
            if name_or_id in self._resources:
                return self._resources[name_or_id]
            named = [r for r in self._resources.values() if r.name == name_or_id]
        if len(named) != 1:
            raise KeyError(f"{len(named)} resources named {name_or_id!r}")
        return named[0]

    def state_of(self, name_or_id: str) -> str:
        """The ``resourceState`` (``STARTED``, ``MAINTAINED``, ``MAINTAINED_MANUAL``)."""
        with self._lock:
            res = self._find(name_or_id)
            self._expire_maintenance(res)
            return res.state

    def maintained_until(self, name_or_id: str) -> dt.datetime | None:
        """When a timed maintenance ends, or ``None``."""
        res = self._find(name_or_id)
        if res.maintained_until_ms is None:
            return None
        return dt.datetime.fromtimestamp(res.maintained_until_ms / 1000, tz=dt.UTC)

    def properties_of(self, name_or_id: str) -> dict[str, Any]:
        """Latest pushed property values by stat key."""
        return dict(self._find(name_or_id).properties)

    def alert(self, alert_id: str) -> dict[str, Any]:
        """An alert as the API shows it, plus its ``notes``."""
        with self._lock:
            a = self._alerts[alert_id]
            return {**self._alert_json(a), "notes": list(a.notes)}

    @property
    def live_tokens(self) -> int:
        """Tokens acquired and neither released nor expired."""
        now = self._now_ms()
        with self._lock:
            return sum(1 for v in self._tokens.values() if v > now)

    @property
    def acquires(self) -> int:
        """How many token acquires were requested."""
        return self.counts["POST /api/auth/token/acquire"]

    def total_requests(self) -> int:
        """All requests counted since the last :meth:`reset_counts`."""
        return sum(self.counts.values())

    def reset_counts(self) -> None:
        """Zero the counters and forget recorded calls."""
        with self._lock:
            self.counts.clear()
            self.calls.clear()

    # ------------------------------------------------------------------ faults

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (next use: 401, apiErrorCode 1512)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0

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
        with self._lock:
            self._faults.append(
                _Fault(
                    remaining=n,
                    status=status,
                    retry_after=retry_after,
                    api_error_code=api_error_code,
                    path=path,
                )
            )

    def clear_faults(self) -> None:
        """Forget every pending fault injected by :meth:`fail_next` or :meth:`reset_next`."""
        with self._lock:
            self._faults.clear()

    def reset_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Drop the connection of the next ``n`` requests without processing them."""
        with self._lock:
            self._faults.append(_Fault(remaining=n, status=None, path=path))

    def delay(self, seconds: float, n: int | None = None) -> None:
        """Answer the next ``n`` requests (all, if ``None``) ``seconds`` late."""
        with self._lock:
            self._delay = seconds
            self._delay_remaining = n

    def set_online(self, online: bool) -> None:
        """Make the node status report ONLINE (200) or offline (503)."""
        self._online = online

    # ------------------------------------------------------------------ core

    def _install_routes(self) -> None:
        table: list[tuple[str, str, Handler, bool]] = [
            ("POST", "/api/auth/token/acquire", self._acquire, False),
            ("POST", "/api/auth/token/release", self._release, True),
            ("GET", "/api/resources", self._list_resources, True),
            ("PUT", "/api/resources/maintained", self._bulk_mark, True),
            ("DELETE", "/api/resources/maintained", self._bulk_unmark, True),
            ("GET", "/api/resources/{id}", self._get_resource, True),
            ("PUT", "/api/resources/{id}/maintained", self._mark, True),
            ("DELETE", "/api/resources/{id}/maintained", self._unmark, True),
            ("POST", "/api/resources/{id}/properties", self._add_properties, True),
            (
                "GET",
                "/api/adapterkinds/{adapterKindKey}/resourcekinds/{resourceKindKey}/resources",
                self._list_kind_resources,
                True,
            ),
            ("POST", "/api/alerts/query", self._query_alerts, True),
            ("POST", "/api/alerts", self._modify_alerts, True),
            ("POST", "/api/alerts/{id}/notes", self._add_note, True),
            ("POST", "/api/events", self._push_event, True),
            ("GET", "/api/deployment/node/status", self._node_status, False),
        ]
        for method, template, handler, auth in table:
            pattern = re.compile(
                "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            )
            self._routes.append((method, pattern, template, handler, auth))

    def _route(self, method: str, path: str) -> tuple[str, Handler, bool, dict[str, str]] | None:
        for m, pattern, template, handler, auth in self._routes:
            match = pattern.match(path)
            if match and m == method:
                return template, handler, auth, match.groupdict()
        return None

    def handle(
        self,
        method: str,
        raw_path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> _Reply:
        """Answer one request (transport-independent; used by every front end)."""
        method = method.upper()
        path = raw_path[len(BASE_PATH) :] if raw_path.startswith(BASE_PATH + "/") else None
        found = self._route(method, path) if path is not None else None
        route = found[0] if found else raw_path
        request = _Request(
            method=method, path=path or raw_path, query=query, headers=dict(headers), body=body
        )
        with self._lock:
            self.counts[f"{method} {route}"] += 1
            delay = self._take_delay()
            fault = self._take_fault(raw_path)
        if fault is not None and fault.status is None:
            self._record(method, raw_path, route, query, 0)
            return _Reply(reset=True, delay=delay)
        if fault is not None:
            assert fault.status is not None
            reply = _Error(
                fault.status,
                f"injected failure {fault.status}",
                api_error_code=fault.api_error_code,
            ).reply()
            if fault.retry_after is not None:
                reply.headers.append(("Retry-After", f"{fault.retry_after:g}"))
        elif found is None:
            reply = _Error(404, f"no such endpoint: {method} {raw_path}").reply()
        else:
            _template, handler, needs_auth, params = found
            request.params = params
            reply = self._dispatch(request, handler, needs_auth, route)
        reply.delay = delay
        self._record(method, raw_path, route, query, reply.status)
        return reply

    def _record(
        self, method: str, path: str, route: str, query: list[tuple[str, str]], status: int
    ) -> None:
        with self._lock:
            self.calls.append(
                RecordedCall(method=method, path=path, route=route, query=query, status=status)
            )

    def _take_delay(self) -> float:
        if not self._delay:
            return 0.0
        delay = self._delay
        if self._delay_remaining is not None:
            self._delay_remaining -= 1
            if self._delay_remaining <= 0:
                self._delay, self._delay_remaining = 0.0, None
        return delay

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _dispatch(
        self, request: _Request, handler: Handler, needs_auth: bool, route: str
    ) -> _Reply:
        accept = request.headers.get("accept", "")
        if "application/json" not in accept and "*/*" not in accept:
            self.violations.append(f"{request.method} {route}: no Accept: application/json")
        if route == "/api/auth/token/acquire" and "authorization" in request.headers:
            self.violations.append("Authorization header sent on token acquire")
        try:
            if needs_auth:
                self._check_token(request)
            with self._lock:
                return handler(request)
        except _Error as err:
            return err.reply()

    def _check_token(self, request: _Request) -> None:
        header = request.headers.get("authorization")
        if not header:
            raise _Error(401, "Authentication required")
        scheme, _, token = header.partition(" ")
        if scheme not in ("vRealizeOpsToken", "OpsToken"):
            raise _Error(401, f"Unsupported authorization scheme {scheme!r}")
        now = self._now_ms()
        with self._lock:
            validity = self._tokens.get(token.strip())
            if validity is None or validity <= now:
                raise _Error(
                    401,
                    "Invalid or expired authentication token",
                    api_error_code=TOKEN_EXPIRED_CODE,
                )
            # Sliding lifetime: every use extends it.
            self._tokens[token.strip()] = now + int(self.token_lifetime * 1000)

    # ------------------------------------------------------------------ handlers

    def _acquire(self, request: _Request) -> _Reply:
        body = request.json()
        if not isinstance(body, dict) or "username" not in body or "password" not in body:
            raise _Error(400, "username and password are required", failures=["username-password"])
        source_ok = self.auth_source is None or body.get("authSource") == self.auth_source
        if (
            body["username"] != self.username
            or body["password"] != self.__password
            or not source_ok
        ):
            raise _Error(401, "Invalid username or password")
        token = f"{uuid.uuid4()}::{uuid.uuid4()}"
        validity = self._now_ms() + int(self.token_lifetime * 1000)
        self._tokens[token] = validity
        self.issued_tokens.append(token)
        expires = dt.datetime.fromtimestamp(validity / 1000, tz=dt.UTC)
        return _Reply(
            body={
                "token": token,
                "validity": validity,
                "expiresAt": expires.strftime(
                    "%A, %B %d, %Y at %I:%M:%S %p Coordinated Universal Time"
                ),
                "roles": ["Administrator"],
            }
        )

    def _release(self, request: _Request) -> _Reply:
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        self._tokens.pop(token, None)
        return _Reply()

    def _resource(self, rid: str) -> _Resource:
        res = self._resources.get(rid)
        if res is None:
            raise _Error(404, f"No resource found with id {rid}")
        return res

    def _expire_maintenance(self, res: _Resource) -> None:
        if (
            res.state == "MAINTAINED"
            and res.maintained_until_ms is not None
            and res.maintained_until_ms <= self._now_ms()
        ):
            res.state, res.maintained_until_ms = "STARTED", None

    def _resource_json(self, res: _Resource) -> dict[str, Any]:
        self._expire_maintenance(res)
        return {
            "creationTime": res.created_ms,
            "resourceKey": {
                "name": res.name,
                "adapterKindKey": res.adapter_kind,
                "resourceKindKey": res.resource_kind,
                "resourceIdentifiers": [
                    {
                        "identifierType": {
                            "name": k,
                            "dataType": "STRING",
                            "isPartOfUniqueness": k != "VMEntityName",
                        },
                        "value": v,
                    }
                    for k, v in res.identifiers.items()
                ],
            },
            "resourceStatusStates": [
                {
                    "adapterInstanceId": res.adapter_instance_id,
                    "resourceState": res.state,
                    "resourceStatus": "DATA_RECEIVING",
                    "statusMessage": "",
                }
            ],
            "resourceHealth": "GREEN",
            "resourceHealthValue": 100.0,
            "dtEnabled": True,
            "identifier": res.id,
        }

    def _page(
        self, request: _Request, items: list[Any], key: str, render: Callable[[Any], Any]
    ) -> _Reply:
        page = self._page_number(request)
        size = request.integer("pageSize", 1000) or 1000
        if size < 1:
            raise _Error(400, "pageSize must be >= 1")
        chunk = items[page * size : (page + 1) * size]
        return _Reply(
            body={
                "pageInfo": {"totalCount": len(items), "page": page, "pageSize": size},
                "links": [],
                key: [render(i) for i in chunk],
            }
        )

    @staticmethod
    def _page_number(request: _Request) -> int:
        page = request.integer("page", 0) or 0
        if page < 0:
            raise _Error(400, "page is 0-based and must be >= 0")
        return page

    @staticmethod
    def _partial(name: str | None, candidate: str) -> bool:
        return name is None or name.casefold() in candidate.casefold()

    def _sorted(self) -> list[_Resource]:
        # Creation order: a stable order in which partial matches may come first.
        return list(self._resources.values())

    def _list_resources(self, request: _Request) -> _Reply:
        names = request.all("name")
        name = names[0] if names else None
        kinds = set(request.all("adapterKind"))
        rkinds = set(request.all("resourceKind"))
        ids = set(request.all("resourceId"))
        items = [
            r
            for r in self._sorted()
            if self._partial(name, r.name)
            and (not kinds or r.adapter_kind in kinds)
            and (not rkinds or r.resource_kind in rkinds)
            and (not ids or r.id in ids)
        ]
        return self._page(request, items, "resourceList", self._resource_json)

    def _list_kind_resources(self, request: _Request) -> _Reply:
        name = request.one("name")
        wanted = {}
        for key, value in request.query:
            m = re.fullmatch(r"identifiers\[(.+)\]", key)
            if m:
                wanted[m.group(1)] = value
        akind, rkind = request.params["adapterKindKey"], request.params["resourceKindKey"]
        items = [
            r
            for r in self._sorted()
            if r.adapter_kind == akind
            and r.resource_kind == rkind
            and self._partial(name, r.name)
            and all(r.identifiers.get(k) == v for k, v in wanted.items())
        ]
        return self._page(request, items, "resourceList", self._resource_json)

    def _get_resource(self, request: _Request) -> _Reply:
        return _Reply(body=self._resource_json(self._resource(request.params["id"])))

    def _maintenance_window(self, request: _Request) -> int | None:
        duration = request.integer("duration")
        end = request.integer("end")
        if duration is not None and duration <= 0:
            raise _Error(400, "duration must be positive")
        if duration is not None:
            return self._now_ms() + duration * 60_000
        return end

    def _set_maintained(self, res: _Resource, until: int | None) -> None:
        if until is None:
            res.state, res.maintained_until_ms = "MAINTAINED_MANUAL", None
        else:
            res.state, res.maintained_until_ms = "MAINTAINED", until

    def _mark(self, request: _Request) -> _Reply:
        res = self._resource(request.params["id"])
        self._set_maintained(res, self._maintenance_window(request))
        return _Reply()

    def _unmark(self, request: _Request) -> _Reply:
        res = self._resource(request.params["id"])
        res.state, res.maintained_until_ms = "STARTED", None
        return _Reply()

    def _bulk(self, request: _Request) -> list[_Resource]:
        ids = request.all("id")
        if not ids:
            raise _Error(400, "at least one id is required")
        missing = [i for i in ids if i not in self._resources]
        if missing:
            raise _Error(404, f"No resource found with id {', '.join(missing)}")
        return [self._resources[i] for i in ids]

    def _bulk_mark(self, request: _Request) -> _Reply:
        until = self._maintenance_window(request)
        for res in self._bulk(request):
            self._set_maintained(res, until)
        return _Reply()

    def _bulk_unmark(self, request: _Request) -> _Reply:
        for res in self._bulk(request):
            res.state, res.maintained_until_ms = "STARTED", None
        return _Reply()

    def _add_properties(self, request: _Request) -> _Reply:
        res = self._resource(request.params["id"])
        body = request.json()
        contents = body.get("property-content") if isinstance(body, dict) else None
        if not isinstance(contents, list):
            raise _Error(400, "property-content is required", failures=["property-content"])
        for item in contents:
            if not isinstance(item, dict) or "statKey" not in item or "timestamps" not in item:
                raise _Error(400, "statKey and timestamps are required")
            values = item.get("values") or item.get("data") or [None]
            res.properties[item["statKey"]] = values[-1]
        return _Reply()

    def _alert_json(self, a: _Alert) -> dict[str, Any]:
        now = self._now_ms()
        if a.control_state == "SUSPENDED" and a.suspend_until_ms <= now:
            a.control_state, a.suspend_until_ms = "OPEN", 0
        return {
            "alertId": a.id,
            "resourceId": a.resource_id,
            "alertLevel": a.level,
            "type": "16",
            "subType": "19",
            "status": a.status,
            "controlState": a.control_state,
            "alertDefinitionId": "AlertDefinition-VMWARE-" + re.sub(r"\W+", "", a.name),
            "alertDefinitionName": a.name,
            "startTimeUTC": a.start_ms,
            "updateTimeUTC": a.start_ms,
            "cancelTimeUTC": a.cancel_ms,
            "suspendUntilTimeUTC": a.suspend_until_ms,
        }

    def _query_alerts(self, request: _Request) -> _Reply:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise _Error(400, "alert-query must be an object")
        rq = body.get("resource-query") or {}
        rids = set(rq.get("resourceId") or ())
        aids = set(body.get("alertId") or ())
        crit = set(body.get("alertCriticality") or ())
        active_only = bool(body.get("activeOnly"))
        items = [
            a
            for a in sorted(self._alerts.values(), key=lambda a: (a.start_ms, a.id))
            if (not rids or a.resource_id in rids)
            and (not aids or a.id in aids)
            and (not crit or a.level in crit)
            and (not active_only or (a.status != "CANCELED" and a.control_state != "SUSPENDED"))
        ]
        return self._page(request, items, "alerts", self._alert_json)

    def _modify_alerts(self, request: _Request) -> _Reply:
        action = (request.one("action") or "").lower()
        body = request.json()
        uuids = body.get("uuids") if isinstance(body, dict) else None
        if not isinstance(uuids, list):
            raise _Error(400, "uuids are required", failures=["uuids"])
        alerts = [self._alerts[u] for u in uuids if u in self._alerts]
        if action == "suspend":
            minutes = request.integer("minutes")
            if minutes is None or minutes < 1:
                raise _Error(400, "minutes is required for suspend")
            for a in alerts:
                a.control_state = "SUSPENDED"
                a.suspend_until_ms = self._now_ms() + minutes * 60_000
        elif action == "cancel":
            for a in alerts:
                a.status, a.cancel_ms = "CANCELED", self._now_ms()
        else:
            raise _Error(400, f"unsupported action {action!r}")
        return self._page(request, alerts, "alerts", self._alert_json)

    def _add_note(self, request: _Request) -> _Reply:
        alert = self._alerts.get(request.params["id"])
        if alert is None:
            raise _Error(404, "No Alert is found with the specified identifier")
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise _Error(400, "content is required", failures=["content"])
        note = {
            "id": str(uuid.uuid4()),
            "alertId": alert.id,
            "creationTimeUTC": self._now_ms(),
            "type": "USER",
            "userName": self.username,
            "note": body["content"],
        }
        alert.notes.append(note)
        return _Reply(status=201, body=note)

    def _push_event(self, request: _Request) -> _Reply:
        body = request.json()
        if not isinstance(body, dict):
            raise _Error(400, "event must be an object")
        missing = [k for k in ("eventType", "message", "resourceId") if k not in body]
        if missing:
            raise _Error(400, "invalid event", failures=[f"{k} is required" for k in missing])
        self._resource(str(body["resourceId"]))
        self.events.append(body)
        return _Reply()

    def _node_status(self, request: _Request) -> _Reply:
        if not self._online:
            return _Error(503, "Node is offline").reply()
        return _Reply(body={"status": "ONLINE", "systemTime": self._now_ms()})

    # ------------------------------------------------------------------ front ends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = urllib.parse.parse_qsl(
            scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        reply = self.handle(scope["method"], scope["path"], query, headers, body)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.reset:
            # Start a response, then fail: uvicorn drops the connection; through
            # httpx.ASGITransport the error reaches the client as a ConnectError.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1024")],
                }
            )
            raise httpx.ConnectError("connection reset by FakeVrops")
        raw_headers, content = reply.encoded()
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": content})

    def transport(self) -> httpx.ASGITransport:
        """An in-process transport for :class:`httpx.AsyncClient` / ``AsyncVropsClient``."""
        return httpx.ASGITransport(app=self)

    def sync_transport(self) -> httpx.BaseTransport:
        """An in-process transport for :class:`httpx.Client` / ``VropsClient``."""
        return _SyncTransport(self)

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
            self.__password,
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
            self.__password,
            auth_source=self.auth_source,
            transport=self.transport(),
            **options,
        )

    @contextlib.contextmanager
    def serve(self, *, host: str = "127.0.0.1", log_level: str = "warning") -> Iterator[str]:
        """Serve the fake with uvicorn on a free loopback port; yields the base URL.

        >>> with FakeVrops().serve() as url:           # doctest: +SKIP
        ...     client = VropsClient(url, "admin", "fake-Passw0rd!")
        """
        with needs_extra("knative", "FakeVrops.serve"):
            import uvicorn

        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only
        # then, and without it every response with a body waits ~40 ms (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self, lifespan="off", log_level=log_level, access_log=False, log_config=None
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="FakeVrops-uvicorn", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()


class _SyncTransport(httpx.BaseTransport):
    """Calls :meth:`FakeVrops.handle` directly, in the caller's thread."""

    def __init__(self, fake: FakeVrops) -> None:
        self._fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        query = urllib.parse.parse_qsl(request.url.query.decode("latin-1"), keep_blank_values=True)
        headers = {k.lower(): v for k, v in request.headers.items()}
        reply = self._fake.handle(request.method, request.url.path, query, headers, body)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.reset:
            raise httpx.ConnectError("connection reset by FakeVrops", request=request)
        raw_headers, content = reply.encoded()
        return httpx.Response(reply.status, headers=raw_headers, content=content, request=request)
