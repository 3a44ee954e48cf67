"""The vROps endpoints the SDK uses, one method each, on :class:`httpx.Request`.

Each takes the request and its path parameters and answers an :class:`httpx.Response`, or
raises :class:`~veba_sdk.testing._vrops.records.ApiError` for vROps' error body. They run
under the state's lock; authentication, faults and counting happen before (see
:mod:`.exchange`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from veba_sdk.testing._vrops.records import ApiError, ResourceRecord, reply
from veba_sdk.testing._vrops.state import State

__all__ = ["Endpoint", "Endpoints", "body_json", "query_int", "query_one"]

#: An endpoint: the request and its path parameters in, the answer out.
Endpoint = Callable[[httpx.Request, Mapping[str, str]], httpx.Response]


def query_one(request: httpx.Request, name: str) -> str | None:
    """The first value of query parameter ``name``."""
    value = request.url.params.get(name)
    return None if value is None else str(value)


def query_int(request: httpx.Request, name: str, default: int | None = None) -> int | None:
    """Query parameter ``name`` as an integer (a 400 if it is not one)."""
    value = request.url.params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"query parameter {name} must be an integer") from None


def body_json(request: httpx.Request) -> Any:
    """The request's JSON body (``None`` when empty; a 400 if it is not JSON)."""
    try:
        return json.loads(request.content or b"null")
    except ValueError:
        raise ApiError(400, "request body is not JSON") from None


class Endpoints:
    """The endpoint methods over one :class:`State`, and the route table naming them."""

    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[tuple[str, str, Endpoint, bool]]:
        """(method, path template under ``/suite-api``, endpoint, needs a token)."""
        return [
            ("POST", "/api/auth/token/acquire", self.acquire, False),
            ("POST", "/api/auth/token/release", self.release, True),
            ("GET", "/api/resources", self.list_resources, True),
            ("PUT", "/api/resources/maintained", self.bulk_mark, True),
            ("DELETE", "/api/resources/maintained", self.bulk_unmark, True),
            ("GET", "/api/resources/{id}", self.get_resource, True),
            ("PUT", "/api/resources/{id}/maintained", self.mark, True),
            ("DELETE", "/api/resources/{id}/maintained", self.unmark, True),
            ("POST", "/api/resources/{id}/properties", self.add_properties, True),
            (
                "GET",
                "/api/adapterkinds/{adapterKindKey}/resourcekinds/{resourceKindKey}/resources",
                self.list_kind_resources,
                True,
            ),
            ("POST", "/api/alerts/query", self.query_alerts, True),
            ("POST", "/api/alerts", self.modify_alerts, True),
            ("POST", "/api/alerts/{id}/notes", self.add_note, True),
            ("POST", "/api/events", self.push_event, True),
            ("GET", "/api/deployment/node/status", self.node_status, False),
        ]

    # -- tokens ----------------------------------------------------------------

    def acquire(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        """POST /api/auth/token/acquire."""
        body = body_json(request)
        if not isinstance(body, dict) or "username" not in body or "password" not in body:
            raise ApiError(
                400, "username and password are required", failures=["username-password"]
            )
        if not self.state.credentials_match(body):
            raise ApiError(401, "Invalid username or password")
        token, validity = self.state.issue_token()
        expires = dt.datetime.fromtimestamp(validity / 1000, tz=dt.UTC)
        return reply(
            200,
            {
                "token": token,
                "validity": validity,
                "expiresAt": expires.strftime(
                    "%A, %B %d, %Y at %I:%M:%S %p Coordinated Universal Time"
                ),
                "roles": ["Administrator"],
            },
        )

    def release(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        """POST /api/auth/token/release."""
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        self.state.tokens.pop(token, None)
        return reply()

    # -- resources, alerts, events, health ----------------------------------------

    def _page(
        self, request: httpx.Request, items: list[Any], key: str, render: Callable[[Any], Any]
    ) -> httpx.Response:
        page = self._page_number(request)
        size = query_int(request, "pageSize", 1000) or 1000
        if size < 1:
            raise ApiError(400, "pageSize must be >= 1")
        chunk = items[page * size : (page + 1) * size]
        return reply(
            200,
            {
                "pageInfo": {"totalCount": len(items), "page": page, "pageSize": size},
                "links": [],
                key: [render(i) for i in chunk],
            },
        )

    @staticmethod
    def _page_number(request: httpx.Request) -> int:
        page = query_int(request, "page", 0) or 0
        if page < 0:
            raise ApiError(400, "page is 0-based and must be >= 0")
        return page

    @staticmethod
    def _partial(name: str | None, candidate: str) -> bool:
        return name is None or name.casefold() in candidate.casefold()

    def _sorted(self) -> list[ResourceRecord]:
        # Creation order: a stable order in which partial matches may come first.
        return list(self.state.resources.values())

    def list_resources(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        names = request.url.params.get_list("name")
        name = names[0] if names else None
        kinds = set(request.url.params.get_list("adapterKind"))
        rkinds = set(request.url.params.get_list("resourceKind"))
        ids = set(request.url.params.get_list("resourceId"))
        items = [
            r
            for r in self._sorted()
            if self._partial(name, r.name)
            and (not kinds or r.adapter_kind in kinds)
            and (not rkinds or r.resource_kind in rkinds)
            and (not ids or r.id in ids)
        ]
        return self._page(request, items, "resourceList", self.state.resource_json)

    def list_kind_resources(
        self, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        name = query_one(request, "name")
        wanted = {}
        for key, value in request.url.params.multi_items():
            m = re.fullmatch(r"identifiers\[(.+)\]", key)
            if m:
                wanted[m.group(1)] = value
        akind, rkind = params["adapterKindKey"], params["resourceKindKey"]
        items = [
            r
            for r in self._sorted()
            if r.adapter_kind == akind
            and r.resource_kind == rkind
            and self._partial(name, r.name)
            and all(r.identifiers.get(k) == v for k, v in wanted.items())
        ]
        return self._page(request, items, "resourceList", self.state.resource_json)

    def get_resource(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        return reply(200, self.state.resource_json(self.state.resource(params["id"])))

    def _maintenance_window(self, request: httpx.Request) -> int | None:
        duration = query_int(request, "duration")
        end = query_int(request, "end")
        if duration is not None and duration <= 0:
            raise ApiError(400, "duration must be positive")
        if duration is not None:
            return self.state.now_ms() + duration * 60_000
        return end

    def _set_maintained(self, res: ResourceRecord, until: int | None) -> None:
        if until is None:
            res.state, res.maintained_until_ms = "MAINTAINED_MANUAL", None
        else:
            res.state, res.maintained_until_ms = "MAINTAINED", until

    def mark(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        res = self.state.resource(params["id"])
        self._set_maintained(res, self._maintenance_window(request))
        return reply()

    def unmark(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        res = self.state.resource(params["id"])
        res.state, res.maintained_until_ms = "STARTED", None
        return reply()

    def _bulk(self, request: httpx.Request) -> list[ResourceRecord]:
        ids = request.url.params.get_list("id")
        if not ids:
            raise ApiError(400, "at least one id is required")
        missing = [i for i in ids if i not in self.state.resources]
        if missing:
            raise ApiError(404, f"No resource found with id {', '.join(missing)}")
        return [self.state.resources[i] for i in ids]

    def bulk_mark(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        until = self._maintenance_window(request)
        for res in self._bulk(request):
            self._set_maintained(res, until)
        return reply()

    def bulk_unmark(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        for res in self._bulk(request):
            res.state, res.maintained_until_ms = "STARTED", None
        return reply()

    def add_properties(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        res = self.state.resource(params["id"])
        body = body_json(request)
        contents = body.get("property-content") if isinstance(body, dict) else None
        if not isinstance(contents, list):
            raise ApiError(400, "property-content is required", failures=["property-content"])
        for item in contents:
            if not isinstance(item, dict) or "statKey" not in item or "timestamps" not in item:
                raise ApiError(400, "statKey and timestamps are required")
            values = item.get("values") or item.get("data") or [None]
            res.properties[item["statKey"]] = values[-1]
        return reply()

    def query_alerts(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        body = body_json(request) or {}
        if not isinstance(body, dict):
            raise ApiError(400, "alert-query must be an object")
        rq = body.get("resource-query") or {}
        rids = set(rq.get("resourceId") or ())
        aids = set(body.get("alertId") or ())
        crit = set(body.get("alertCriticality") or ())
        active_only = bool(body.get("activeOnly"))
        items = [
            a
            for a in sorted(self.state.alerts.values(), key=lambda a: (a.start_ms, a.id))
            if (not rids or a.resource_id in rids)
            and (not aids or a.id in aids)
            and (not crit or a.level in crit)
            and (not active_only or (a.status != "CANCELED" and a.control_state != "SUSPENDED"))
        ]
        return self._page(request, items, "alerts", self.state.alert_json)

    def modify_alerts(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        action = (query_one(request, "action") or "").lower()
        body = body_json(request)
        uuids = body.get("uuids") if isinstance(body, dict) else None
        if not isinstance(uuids, list):
            raise ApiError(400, "uuids are required", failures=["uuids"])
        alerts = [self.state.alerts[u] for u in uuids if u in self.state.alerts]
        if action == "suspend":
            minutes = query_int(request, "minutes")
            if minutes is None or minutes < 1:
                raise ApiError(400, "minutes is required for suspend")
            for a in alerts:
                a.control_state = "SUSPENDED"
                a.suspend_until_ms = self.state.now_ms() + minutes * 60_000
        elif action == "cancel":
            for a in alerts:
                a.status, a.cancel_ms = "CANCELED", self.state.now_ms()
        else:
            raise ApiError(400, f"unsupported action {action!r}")
        return self._page(request, alerts, "alerts", self.state.alert_json)

    def add_note(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        alert = self.state.alerts.get(params["id"])
        if alert is None:
            raise ApiError(404, "No Alert is found with the specified identifier")
        body = body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise ApiError(400, "content is required", failures=["content"])
        note = {
            "id": str(uuid.uuid4()),
            "alertId": alert.id,
            "creationTimeUTC": self.state.now_ms(),
            "type": "USER",
            "userName": self.state.username,
            "note": body["content"],
        }
        alert.notes.append(note)
        return reply(201, note)

    def push_event(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        body = body_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "event must be an object")
        missing = [k for k in ("eventType", "message", "resourceId") if k not in body]
        if missing:
            raise ApiError(400, "invalid event", failures=[f"{k} is required" for k in missing])
        self.state.resource(str(body["resourceId"]))
        self.state.events.append(body)
        return reply()

    def node_status(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        if not self.state.online:
            return ApiError(503, "Node is offline").response()
        return reply(200, {"status": "ONLINE", "systemTime": self.state.now_ms()})
