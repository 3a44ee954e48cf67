"""The part of the vROps client that does no I/O.

Everything here is shared by :class:`VropsClient` and :class:`AsyncVropsClient`:
request building (:class:`Call`), response parsing, error mapping, paging maths,
the retry decision, settings from the environment, and the multi-step
operations written as generators ("flows") that yield a :class:`Call` and
receive its :class:`httpx.Response`. A client only sends.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import os
import re
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import httpx

from veba_sdk.vrops._errors import AmbiguousResource, VropsAuthError, VropsError, VropsNotFound
from veba_sdk.vrops._models import Alert, AlertNote, NodeStatus, Page, PageInfo, Resource

log = logging.getLogger("veba_sdk.vrops")

T = TypeVar("T")

DEFAULT_BASE_PATH = "/suite-api"
ACQUIRE_PATH = "/api/auth/token/acquire"
RELEASE_PATH = "/api/auth/token/release"
SCHEMES = ("vRealizeOpsToken", "OpsToken")
DEFAULT_SECRETS_DIR = "/var/openfaas/secrets"
#: Earliest time vROps accepts for an event (``event.startTimeUTC`` minimum).
_MIN_EVENT_MS = 946_684_800_000
_MOREF = re.compile(r"^host-\d+$")

#: A flow yields calls, receives responses, and returns its result.
Flow = Generator["Call", httpx.Response, T]


@attrs.frozen(kw_only=True)
class Call:
    """One HTTP call, relative to the base path (``/suite-api``)."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    #: send with the token (``False`` for the unauthenticated node status call)
    auth: bool = True
    #: retry on 429/502/503/504 and connection errors
    retry: bool = True
    #: statuses that are answers rather than errors
    ok: frozenset[int] = frozenset({200})

    @property
    def idempotent(self) -> bool:
        """GET, PUT and DELETE may be repeated after a lost response."""
        return self.method in {"GET", "PUT", "DELETE", "HEAD"}


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How failed calls are retried (by `stamina`).

    Retried: 429, 502, 503, 504, connection errors (always: the request was
    not processed), and lost responses of idempotent calls. Waits grow
    exponentially from ``wait_initial`` to ``wait_max`` with up to
    ``wait_jitter`` seconds of jitter; a ``Retry-After`` header replaces the
    computed wait (capped at ``max_retry_after``). At most ``attempts`` tries
    within ``timeout`` seconds in total.
    """

    attempts: int = 5
    timeout: float = 60.0
    wait_initial: float = 0.25
    wait_max: float = 8.0
    wait_jitter: float = 0.5
    max_retry_after: float = 60.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def stamina_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``stamina.retry_context``."""
        return {
            "attempts": self.attempts,
            "timeout": self.timeout,
            "wait_initial": self.wait_initial,
            "wait_max": self.wait_max,
            "wait_jitter": self.wait_jitter,
        }

    def hook(self, call: Call) -> Callable[[Exception], bool | float]:
        """A stamina backoff hook for ``call``: retry or not, or how long to wait."""

        def decide(exc: Exception) -> bool | float:
            if isinstance(exc, VropsError):
                if exc.status not in self.statuses:
                    return False
                if exc.retry_after is not None:
                    return min(max(exc.retry_after, 0.0), self.max_retry_after)
                return True
            if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
                return True
            if isinstance(exc, httpx.TransportError):
                return call.idempotent
            return False

        return decide


def _encodings(text: str) -> tuple[str, ...]:
    """``text`` as a server may echo it once more: URL-encoded (path, form, query) and
    JSON-escaped (ASCII-only or not)."""
    quote = urllib.parse.quote
    return (
        quote(text, safe=""),
        quote(text),
        urllib.parse.quote_plus(text),
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
    )


def secret_forms(secret: str) -> set[str]:
    """Every form of ``secret`` a server echoing its input may send back: raw, and one or two
    encodings deep (a JSON body quoted in JSON, a URL-encoded JSON body, ...)."""
    forms = {secret}
    for once in _encodings(secret):
        forms.add(once)
        forms.update(_encodings(once))
    return forms


class Redactor:
    """Removes known secrets from text (server messages may echo input), in every form
    :func:`secret_forms` gives, hex digits of percent-escapes in either case.

    Every live redactor also scrubs the log records of httpx (its ``HTTP Request`` INFO line
    carries the server's reason phrase) and httpcore (its DEBUG lines carry response headers).
    """

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        self._secrets = secrets
        self._pattern: tuple[tuple[str, ...], re.Pattern[str] | None] = ((), None)
        _LogScrubber.register(self)

    def _compiled(self) -> re.Pattern[str] | None:
        secrets = tuple(s for s in self._secrets() if s and len(s) >= 3)
        known, pattern = self._pattern
        if secrets != known:
            forms = {form for secret in secrets for form in secret_forms(secret)}
            # Longest first, so a form inside a longer one never leaves the rest behind.
            ordered = sorted(forms, key=len, reverse=True)
            alternatives = "|".join(map(re.escape, ordered))
            pattern = re.compile(alternatives, re.IGNORECASE) if forms else None
            self._pattern = (secrets, pattern)
        return pattern

    def __call__(self, text: str) -> str:
        pattern = self._compiled()
        return text if pattern is None else pattern.sub("***", text)

    def __repr__(self) -> str:
        return "Redactor(***)"


class _LogScrubber(logging.Filter):
    """Scrubs the secrets of every live :class:`Redactor` from httpx's and httpcore's records.

    Attached once to the loggers those libraries write to; a filter on a logger runs only for
    records that logger emits at an enabled level, so it costs nothing while they are quiet.
    """

    LOGGERS = (
        "httpx",
        "httpcore.connection",
        "httpcore.http11",
        "httpcore.http2",
        "httpcore.proxy",
    )
    _installed: _LogScrubber | None = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
        self.redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()

    @classmethod
    def register(cls, redactor: Redactor) -> None:
        with cls._guard:
            if cls._installed is None:
                cls._installed = cls()
                for name in cls.LOGGERS:
                    logging.getLogger(name).addFilter(cls._installed)
            cls._installed.redactors.add(redactor)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._guard:
            redactors = list(self.redactors)
        if not redactors:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it, as without us
            return True
        clean = message
        for redact in redactors:
            clean = redact(clean)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    base = now if now is not None else dt.datetime.now(dt.UTC).timestamp()
    return max(0.0, when.timestamp() - base)


def error_from_response(
    response: httpx.Response, redact: Callable[[str], str], *, context: str = ""
) -> VropsError:
    """Map a non-success response to the right :class:`VropsError` subclass."""
    status = response.status_code
    message = ""
    api_error_code: int | None = None
    failures: list[str] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        code = body.get("apiErrorCode")
        api_error_code = code if isinstance(code, int) and not isinstance(code, bool) else None
        for item in body.get("validationFailures") or ():
            if isinstance(item, dict) and item.get("failureMessage"):
                failures.append(redact(str(item["failureMessage"])))
    if not message:
        message = response.reason_phrase or "error"
    message = redact(message)
    if context:
        message = f"{context}: {message}"
    kwargs: dict[str, Any] = {
        "status": status,
        "api_error_code": api_error_code,
        "validation_failures": failures,
        "retry_after": parse_retry_after(response.headers.get("Retry-After")),
    }
    cls: type[VropsError]
    if status == 401:
        cls = VropsAuthError
    elif status == 404:
        cls = VropsNotFound
    else:
        cls = VropsError
    return cls(message, **kwargs)


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or a :class:`VropsError` if it is not JSON."""
    try:
        return response.json()
    except ValueError:
        pass
    # Raised here, outside the handler: the JSON error holds the whole body (``doc``), which
    # may echo what was sent, so nothing chains to it.
    raise VropsError(
        "response is not JSON (is Accept honoured, or is a proxy answering?)",
        status=response.status_code,
    )


# ---------------------------------------------------------------------------
# paging


def page_params(page: int, page_size: int) -> tuple[tuple[str, str], ...]:
    """Query parameters for one 0-based page."""
    return (("page", str(page)), ("pageSize", str(page_size)))


def next_page(info: PageInfo, page: int, page_size: int, received: int) -> int | None:
    """The next page number to fetch, or ``None`` when the last page was read.

    Uses ``totalCount`` when the server sends it; otherwise a short page ends
    the listing.
    """
    if received == 0:
        return None
    if info.total_count is not None:
        return page + 1 if (page + 1) * page_size < info.total_count else None
    return page + 1 if received >= page_size else None


def parse_resources(response: httpx.Response, page: int, page_size: int) -> Page[Resource]:
    """A ``resources`` answer as a :class:`Page`."""
    data = json_body(response) or {}
    items = tuple(Resource.from_json(r) for r in data.get("resourceList") or ())
    return Page(
        items=items, info=PageInfo.from_json(data.get("pageInfo"), page=page, page_size=page_size)
    )


def parse_alerts(response: httpx.Response, page: int, page_size: int) -> Page[Alert]:
    """An ``alerts`` answer as a :class:`Page`."""
    data = json_body(response) or {}
    items = tuple(Alert.from_json(a) for a in data.get("alerts") or ())
    return Page(
        items=items, info=PageInfo.from_json(data.get("pageInfo"), page=page, page_size=page_size)
    )


# ---------------------------------------------------------------------------
# request building


def _epoch_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (use datetime.timezone.utc)")
    return int(value.timestamp() * 1000)


def maintained_params(
    duration: float | dt.timedelta | None, end: dt.datetime | None
) -> tuple[tuple[str, str], ...]:
    """``duration`` (whole minutes, rounded up) or ``end`` (epoch ms); neither = manual."""
    if duration is not None and end is not None:
        raise ValueError("give duration or end, not both")
    if duration is not None:
        minutes = duration.total_seconds() / 60 if isinstance(duration, dt.timedelta) else duration
        if minutes <= 0:
            raise ValueError("duration must be positive")
        return (("duration", str(math.ceil(minutes))),)
    if end is not None:
        return (("end", str(_epoch_ms(end))),)
    return ()


@attrs.frozen(kw_only=True)
class ResourceQuery:
    """What to list: a name (matched partially by the server), kinds, identifiers."""

    name: str | None = None
    adapter_kind: str | None = None
    resource_kind: str | None = None
    identifiers: Mapping[str, str] = attrs.field(factory=dict)

    def call(self, page: int, page_size: int) -> Call:
        """The listing call for one page.

        With both kinds the kind-scoped endpoint is used (it alone accepts
        ``identifiers[...]``); otherwise ``/api/resources``.
        """
        params: list[tuple[str, str]] = []
        if self.adapter_kind and self.resource_kind:
            path = (
                f"/api/adapterkinds/{_seg(self.adapter_kind)}"
                f"/resourcekinds/{_seg(self.resource_kind)}/resources"
            )
            if self.name is not None:
                params.append(("name", self.name))
            params.extend((f"identifiers[{k}]", v) for k, v in self.identifiers.items())
        else:
            if self.identifiers:
                raise ValueError("identifiers need both adapter_kind and resource_kind")
            path = "/api/resources"
            if self.name is not None:
                params.append(("name", self.name))
            if self.adapter_kind:
                params.append(("adapterKind", self.adapter_kind))
            if self.resource_kind:
                params.append(("resourceKind", self.resource_kind))
        return Call(method="GET", path=path, params=(*params, *page_params(page, page_size)))


def _seg(value: str) -> str:
    """One URL path segment; refuses separators so a kind cannot change the path."""
    if not value or "/" in value or value in {".", ".."}:
        raise ValueError(f"invalid path segment: {value!r}")
    return urllib.parse.quote(value, safe="")


def _uuid_like(value: str, what: str) -> str:
    if not value or "/" in value or "?" in value:
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def alert_query_body(
    *,
    resource_ids: Sequence[str],
    alert_ids: Sequence[str],
    active_only: bool,
    criticality: Sequence[str],
) -> dict[str, Any]:
    """An ``alert-query`` body."""
    body: dict[str, Any] = {"compositeOperator": "AND"}
    if resource_ids:
        body["resource-query"] = {"resourceId": list(resource_ids)}
    if alert_ids:
        body["alertId"] = list(alert_ids)
    if active_only:
        body["activeOnly"] = True
    if criticality:
        body["alertCriticality"] = [c.upper() for c in criticality]
    return body


def property_contents(
    properties: Mapping[str, str | int | float], timestamp_ms: int
) -> dict[str, Any]:
    """A ``property-contents`` body: strings go in ``values``, numbers in ``data``."""
    items: list[dict[str, Any]] = []
    for key, value in properties.items():
        item: dict[str, Any] = {"statKey": key, "timestamps": [timestamp_ms]}
        if isinstance(value, bool):
            item["values"] = ["true" if value else "false"]
        elif isinstance(value, str):
            item["values"] = [value]
        else:
            item["data"] = [float(value)]
        items.append(item)
    return {"property-content": items}


# ---------------------------------------------------------------------------
# host-id cache


class HostIdCache:
    """Maps (name or moref, vCenter uuid) to a resource id; thread-safe, bounded."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: tuple[str, str]) -> str | None:
        """The cached id, or ``None``."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: tuple[str, str], resource_id: str) -> None:
        """Remember an id (drops the oldest entry when full)."""
        with self._lock:
            if len(self._data) >= self._max and key not in self._data:
                self._data.pop(next(iter(self._data)))
            self._data[key] = resource_id

    def invalidate(self, key: tuple[str, str] | None = None) -> None:
        """Forget one entry, or everything."""
        with self._lock:
            if key is None:
                self._data.clear()
            else:
                self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


# ---------------------------------------------------------------------------
# the shared core: configuration plus flows


class ClientCore:
    """State and logic shared by both clients; no I/O."""

    def __init__(
        self,
        *,
        page_size: int,
        retry: RetryPolicy,
        cache_host_ids: bool,
        redact: Callable[[str], str],
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.page_size = page_size
        self.retry = retry
        self.host_ids: HostIdCache | None = HostIdCache() if cache_host_ids else None
        self.redact = redact

    # -- responses ---------------------------------------------------------

    def check(self, call: Call, response: httpx.Response) -> httpx.Response:
        """Return ``response`` if its status is an answer; raise the mapped error otherwise."""
        log.debug("vROps %s %s -> %s", call.method, call.path, response.status_code)
        if response.status_code in call.ok:
            return response
        context = ""
        if response.status_code == 401:
            context = "token rejected after one re-acquire" if call.auth else "unauthorised"
        raise error_from_response(response, self.redact, context=context)

    def failure(self, call: Call, exc: httpx.HTTPError) -> VropsError:
        """The error for a call httpx gave up on: its kind and scrubbed text, never the
        exception itself (it holds the request, with the password or the token)."""
        return VropsError(
            f"{call.method} {call.path} failed: {type(exc).__name__}: {self.redact(str(exc))}"
        )

    # -- lookups -----------------------------------------------------------

    def list_all(self, query: ResourceQuery) -> Flow[list[Resource]]:
        """Every resource the server returns for ``query``, over all pages."""
        found: list[Resource] = []
        page = 0
        while True:
            response = yield query.call(page, self.page_size)
            result = parse_resources(response, page, self.page_size)
            found.extend(result.items)
            nxt = next_page(result.info, page, self.page_size, len(result.items))
            if nxt is None:
                return found
            page = nxt

    def find_resources(self, query: ResourceQuery) -> Flow[list[Resource]]:
        """Resources whose name equals ``query.name`` exactly (the server matches partially)."""
        found = yield from self.list_all(query)
        if query.name is None:
            return found
        return [r for r in found if r.name == query.name]

    def find_resource(self, query: ResourceQuery) -> Flow[Resource]:
        """Exactly one resource named ``query.name``, or VropsNotFound / AmbiguousResource."""
        found = yield from self.find_resources(query)
        return _single(found, f"resource named {query.name!r}")

    def find_host(self, name_or_moref: str, vcenter_uuid: str | None) -> Flow[Resource]:
        """A HostSystem by exact name or by moref (``host-19``), optionally in one vCenter."""
        if not name_or_moref:
            raise ValueError("name_or_moref is empty")
        if _MOREF.match(name_or_moref):
            idents = {"VMEntityObjectID": name_or_moref}
            if vcenter_uuid:
                idents["VMEntityVCID"] = vcenter_uuid
            query = ResourceQuery(
                adapter_kind="VMWARE", resource_kind="HostSystem", identifiers=idents
            )
            found = yield from self.list_all(query)
            # Filter as well: identifiers must match exactly, whatever the server did.
            found = [
                r
                for r in found
                if r.moref == name_or_moref and (not vcenter_uuid or r.vcenter_uuid == vcenter_uuid)
            ]
            where = f" in vCenter {vcenter_uuid}" if vcenter_uuid else ""
            what = f"host {name_or_moref!r}{where}"
            if not found:
                # A name may look like a moref; fall back to the name lookup.
                found = yield from self._hosts_named(name_or_moref, vcenter_uuid)
            return _single(found, what)
        found = yield from self._hosts_named(name_or_moref, vcenter_uuid)
        what = f"host named {name_or_moref!r}" + (
            f" in vCenter {vcenter_uuid}" if vcenter_uuid else ""
        )
        return _single(found, what)

    def _hosts_named(self, name: str, vcenter_uuid: str | None) -> Flow[list[Resource]]:
        query = ResourceQuery(name=name, adapter_kind="VMWARE", resource_kind="HostSystem")
        found = yield from self.find_resources(query)
        if vcenter_uuid:
            found = [r for r in found if r.vcenter_uuid == vcenter_uuid]
        return found

    def host_id(self, name_or_moref: str, vcenter_uuid: str | None) -> Flow[str]:
        """The host's resource id, from the cache when enabled."""
        key = (name_or_moref, vcenter_uuid or "")
        if self.host_ids is not None:
            cached = self.host_ids.get(key)
            if cached is not None:
                return cached
        host = yield from self.find_host(name_or_moref, vcenter_uuid)
        if self.host_ids is not None:
            self.host_ids.put(key, host.identifier)
        return host.identifier

    def set_host_maintained(
        self,
        name_or_moref: str,
        vcenter_uuid: str | None,
        *,
        maintained: bool,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> Flow[str]:
        """Look the host up (or use the cache) and mark or unmark it; returns its id.

        A cached id that the server no longer knows (404) is dropped and looked
        up once more.
        """
        key = (name_or_moref, vcenter_uuid or "")
        cached = self.host_ids.get(key) if self.host_ids is not None else None
        resource_id = cached or (yield from self.host_id(name_or_moref, vcenter_uuid))
        call = (
            self.mark_call(resource_id, duration, end)
            if maintained
            else self.unmark_call(resource_id)
        )
        try:
            yield call
        except VropsNotFound:
            if cached is None or self.host_ids is None:
                raise
            self.host_ids.invalidate(key)
            resource_id = yield from self.host_id(name_or_moref, vcenter_uuid)
            call = attrs.evolve(call, path=call.path.replace(cached, resource_id))
            yield call
        return resource_id

    def get_resource(self, resource_id: str) -> Flow[Resource]:
        """One resource by id."""
        response = yield Call(method="GET", path=f"/api/resources/{_seg(resource_id)}")
        return Resource.from_json(json_body(response))

    # -- maintenance -------------------------------------------------------

    def mark_call(
        self, resource_id: str, duration: float | dt.timedelta | None, end: dt.datetime | None
    ) -> Call:
        """PUT /api/resources/{id}/maintained."""
        return Call(
            method="PUT",
            path=f"/api/resources/{_seg(_uuid_like(resource_id, 'resource id'))}/maintained",
            params=maintained_params(duration, end),
        )

    def unmark_call(self, resource_id: str) -> Call:
        """DELETE /api/resources/{id}/maintained."""
        return Call(
            method="DELETE",
            path=f"/api/resources/{_seg(_uuid_like(resource_id, 'resource id'))}/maintained",
        )

    def mark_bulk_call(
        self,
        resource_ids: Sequence[str],
        duration: float | dt.timedelta | None,
        end: dt.datetime | None,
    ) -> Call:
        """PUT /api/resources/maintained?id=A&id=B."""
        ids = _ids(resource_ids)
        return Call(
            method="PUT",
            path="/api/resources/maintained",
            params=(*ids, *maintained_params(duration, end)),
        )

    def unmark_bulk_call(self, resource_ids: Sequence[str]) -> Call:
        """DELETE /api/resources/maintained?id=A&id=B."""
        return Call(method="DELETE", path="/api/resources/maintained", params=_ids(resource_ids))

    # -- alerts ------------------------------------------------------------

    def alerts_call(self, body: Mapping[str, Any], page: int) -> Call:
        """POST /api/alerts/query for one page."""
        return Call(
            method="POST",
            path="/api/alerts/query",
            params=page_params(page, self.page_size),
            json=dict(body),
        )

    def suspend_alerts(self, alert_ids: Sequence[str], minutes: int) -> Flow[list[Alert]]:
        """POST /api/alerts?action=suspend&minutes=N with the ids."""
        if minutes < 1:
            raise ValueError("minutes must be >= 1")
        ids = [_uuid_like(a, "alert id") for a in alert_ids]
        if not ids:
            return []
        response = yield Call(
            method="POST",
            path="/api/alerts",
            params=(("action", "suspend"), ("minutes", str(int(minutes)))),
            json={"uuids": ids},
        )
        return list(parse_alerts(response, 0, self.page_size).items)

    def add_alert_note(self, alert_id: str, content: str) -> Flow[AlertNote]:
        """POST /api/alerts/{id}/notes."""
        response = yield Call(
            method="POST",
            path=f"/api/alerts/{_seg(_uuid_like(alert_id, 'alert id'))}/notes",
            json={"content": content},
            ok=frozenset({200, 201}),
        )
        return AlertNote.from_json(json_body(response))

    # -- properties, events, health -----------------------------------------

    def push_properties_call(
        self,
        resource_id: str,
        properties: Mapping[str, str | int | float],
        timestamp: dt.datetime | None,
    ) -> Call:
        """POST /api/resources/{id}/properties."""
        if not properties:
            raise ValueError("no properties to push")
        when = timestamp or dt.datetime.now(dt.UTC)
        return Call(
            method="POST",
            path=f"/api/resources/{_seg(_uuid_like(resource_id, 'resource id'))}/properties",
            json=property_contents(properties, _epoch_ms(when)),
        )

    def event_call(
        self,
        resource_id: str,
        message: str,
        *,
        severity: str,
        event_type: str,
        start: dt.datetime | None,
        managed_externally: bool,
    ) -> Call:
        """POST /api/events (an annotation on a resource's timeline)."""
        start_ms = _epoch_ms(start or dt.datetime.now(dt.UTC))
        if start_ms < _MIN_EVENT_MS:
            raise ValueError("vROps events must start in 2000 or later")
        return Call(
            method="POST",
            path="/api/events",
            json={
                "eventType": event_type.upper(),
                "resourceId": _uuid_like(resource_id, "resource id"),
                "message": message,
                "severity": severity.upper(),
                "startTimeUTC": start_ms,
                "managedExternally": managed_externally,
            },
        )

    def node_status_call(self) -> Call:
        """GET /api/deployment/node/status: no token, no retries, 503 is an answer."""
        return Call(
            method="GET",
            path="/api/deployment/node/status",
            auth=False,
            retry=False,
            ok=frozenset({200, 503}),
        )

    @staticmethod
    def parse_node_status(response: httpx.Response) -> NodeStatus:
        """A node-status answer; a 503 without a body reads as OFFLINE."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("status"):
            return NodeStatus.from_json(data)
        return NodeStatus(status="ONLINE" if response.status_code == 200 else "OFFLINE")


def _single(found: Sequence[Resource], what: str) -> Resource:
    if not found:
        raise VropsNotFound(f"no {what}")
    if len(found) > 1:
        raise AmbiguousResource(f"several matches for {what}", found)
    return found[0]


def _ids(resource_ids: Sequence[str] | str) -> tuple[tuple[str, str], ...]:
    listed = [resource_ids] if isinstance(resource_ids, str) else list(resource_ids)
    ids = tuple(("id", _uuid_like(r, "resource id")) for r in listed)
    if not ids:
        raise ValueError("no resource ids given")
    return ids


# ---------------------------------------------------------------------------
# construction helpers


def base_url(host: str, base_path: str = DEFAULT_BASE_PATH) -> httpx.URL:
    """The API base URL from ``vrops.lab``, ``https://vrops.lab:443/``, ``http://127.0.0.1:8080``."""
    host = host.strip()
    if not host:
        raise ValueError("vROps host is empty")
    if "://" not in host:
        host = "https://" + host
    url = httpx.URL(host)
    path = url.path.rstrip("/")
    if path.endswith(base_path):
        path = path[: -len(base_path)]
    return url.copy_with(path=path + base_path, query=None, fragment=None)


_insecure_warned = False
_insecure_lock = threading.Lock()


def warn_if_insecure(verify: object, host: str) -> None:
    """Log once per process that TLS verification is off."""
    global _insecure_warned
    if verify is not False:
        return
    with _insecure_lock:
        if _insecure_warned:
            return
        _insecure_warned = True
    log.warning(
        "TLS certificate verification is disabled for vROps at %s; "
        "set VROPS_VERIFY to a CA bundle path instead",
        host,
    )


#: Setting -> names accepted, first wins: our own, then VEBA users' secret keys.
ENV_NAMES: Mapping[str, tuple[str, ...]] = {
    "host": ("VROPS_HOST", "vropsFqdn", "VROPS_SERVER"),
    "username": ("VROPS_USERNAME", "vropsUser", "VROPS_USER"),
    "password": ("VROPS_PASSWORD", "vropsPassword", "VROPS_PASS"),
    "auth_source": ("VROPS_AUTH_SOURCE", "vropsAuthSource"),
    "verify": ("VROPS_VERIFY", "vropsVerify"),
    "scheme": ("VROPS_AUTH_SCHEME",),
    "retry_attempts": ("VROPS_RETRY_ATTEMPTS",),
    "retry_timeout": ("VROPS_RETRY_TIMEOUT",),
}


def parse_verify(value: str) -> bool | str:
    """``true``/``false`` (and yes/no/1/0), or a CA bundle path."""
    low = value.strip().lower()
    if low in {"1", "true", "yes", "on", ""}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    return value.strip()


def settings_from_env(
    environ: Mapping[str, str] | None = None, secrets_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Client settings from environment variables and secret files.

    For each setting the names in :data:`ENV_NAMES` are tried in order: the
    environment variable itself, then ``<NAME>_FILE`` (a path to read), then a
    file of that name in the secrets directory (``secrets_dir``, else
    ``$VEBA_SECRETS_DIR``, else ``/var/openfaas/secrets``; a Kubernetes secret
    volume works the same way).
    """
    env = os.environ if environ is None else environ
    directory = Path(secrets_dir or env.get("VEBA_SECRETS_DIR") or DEFAULT_SECRETS_DIR)
    out: dict[str, Any] = {}
    for setting, names in ENV_NAMES.items():
        value = _lookup(env, directory, names)
        if value is not None:
            out[setting] = value
    missing = [s for s in ("host", "username", "password") if not out.get(s)]
    if missing:
        wanted = ", ".join("/".join(ENV_NAMES[m][:2]) for m in missing)
        raise VropsError(f"vROps settings missing: {wanted} (environment or {directory})")
    if "verify" in out:
        out["verify"] = parse_verify(out["verify"])
    budget = {k: out.pop(f"retry_{k}") for k in ("attempts", "timeout") if f"retry_{k}" in out}
    if budget:
        default = RetryPolicy()
        try:
            out["retry"] = RetryPolicy(
                attempts=int(budget.get("attempts", default.attempts)),
                timeout=float(budget.get("timeout", default.timeout)),
            )
        except ValueError:
            raise VropsError(
                "VROPS_RETRY_ATTEMPTS must be an integer and VROPS_RETRY_TIMEOUT seconds"
            ) from None
    return out


def _lookup(env: Mapping[str, str], directory: Path, names: Sequence[str]) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value.strip()
        file_name = env.get(name + "_FILE")
        if file_name:
            return Path(file_name).read_text(encoding="utf-8").strip()
    for name in names:
        try:
            text = (directory / name).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if text:
            return text
    return None
