"""What both vROps clients share and that does no I/O: answer checks and the flows.

A flow is a generator yielding :class:`~veba_sdk.vrops._call.Call` objects and receiving
their responses; :class:`VropsClient` and :class:`AsyncVropsClient` drive the same flows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from veba_sdk.vrops._call import Call, Flow, log
from veba_sdk.vrops._errors import AmbiguousResource, VropsError, VropsNotFound
from veba_sdk.vrops._host_cache import HostIdCache
from veba_sdk.vrops._models import Alert, AlertNote, NodeStatus, Resource
from veba_sdk.vrops._options import EventType, Severity
from veba_sdk.vrops._requests import (
    MIN_EVENT_MS,
    MOREF,
    ResourceQuery,
    epoch_ms,
    ids_params,
    maintained_params,
    property_contents,
    segment,
    uuid_like,
)
from veba_sdk.vrops._responses import (
    error_from_response,
    json_body,
    next_page,
    page_params,
    parse_alerts,
    parse_resources,
)
from veba_sdk.vrops._retry import RetryPolicy

__all__ = ["ClientCore"]


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
        if MOREF.match(name_or_moref):
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
        response = yield Call(method="GET", path=f"/api/resources/{segment(resource_id)}")
        return Resource.from_json(json_body(response))

    # -- maintenance -------------------------------------------------------

    def mark_call(
        self, resource_id: str, duration: float | dt.timedelta | None, end: dt.datetime | None
    ) -> Call:
        """PUT /api/resources/{id}/maintained."""
        return Call(
            method="PUT",
            path=f"/api/resources/{segment(uuid_like(resource_id, 'resource id'))}/maintained",
            params=maintained_params(duration, end),
        )

    def unmark_call(self, resource_id: str) -> Call:
        """DELETE /api/resources/{id}/maintained."""
        return Call(
            method="DELETE",
            path=f"/api/resources/{segment(uuid_like(resource_id, 'resource id'))}/maintained",
        )

    def mark_bulk_call(
        self,
        resource_ids: Sequence[str],
        duration: float | dt.timedelta | None,
        end: dt.datetime | None,
    ) -> Call:
        """PUT /api/resources/maintained?id=A&id=B."""
        ids = ids_params(resource_ids)
        return Call(
            method="PUT",
            path="/api/resources/maintained",
            params=(*ids, *maintained_params(duration, end)),
        )

    def unmark_bulk_call(self, resource_ids: Sequence[str]) -> Call:
        """DELETE /api/resources/maintained?id=A&id=B."""
        return Call(
            method="DELETE", path="/api/resources/maintained", params=ids_params(resource_ids)
        )

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
        ids = [uuid_like(a, "alert id") for a in alert_ids]
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
            path=f"/api/alerts/{segment(uuid_like(alert_id, 'alert id'))}/notes",
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
            path=f"/api/resources/{segment(uuid_like(resource_id, 'resource id'))}/properties",
            json=property_contents(properties, epoch_ms(when)),
        )

    def event_call(
        self,
        resource_id: str,
        message: str,
        *,
        severity: Severity,
        event_type: EventType,
        start: dt.datetime | None,
        managed_externally: bool,
    ) -> Call:
        """POST /api/events (an annotation on a resource's timeline)."""
        start_ms = epoch_ms(start or dt.datetime.now(dt.UTC))
        if start_ms < MIN_EVENT_MS:
            raise ValueError("vROps events must start in 2000 or later")
        return Call(
            method="POST",
            path="/api/events",
            json={
                "eventType": event_type.upper(),
                "resourceId": uuid_like(resource_id, "resource id"),
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
