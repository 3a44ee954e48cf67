"""The asynchronous vROps client, and the source of the synchronous one.

``_client.py`` (:class:`VropsClient`) is generated from this file by
``scripts/generate_sync_vrops.py`` (``async def`` -> ``def``, ``await`` dropped,
``AsyncVropsClient`` -> ``VropsClient`` ...); CI runs it with ``--check``. Edit
this file, then run the script. Everything that does no I/O lives once in
:class:`~veba_sdk.vrops._core.ClientCore` and the flows it yields.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TypeVar

import httpx
import stamina

from veba_sdk.vrops import _call
from veba_sdk.vrops._call import Call, Flow, log
from veba_sdk.vrops._client_base import _ClientBase
from veba_sdk.vrops._errors import VropsError
from veba_sdk.vrops._models import Alert, AlertNote, NodeStatus, Resource, ResourceState
from veba_sdk.vrops._options import EventType, Severity
from veba_sdk.vrops._requests import ResourceQuery, alert_query_body
from veba_sdk.vrops._responses import next_page, parse_alerts, parse_resources
from veba_sdk.vrops._shared import AsyncSharing

__all__ = ["AsyncVropsClient"]

T = TypeVar("T")


class AsyncVropsClient(AsyncSharing, _ClientBase[httpx.AsyncClient]):
    """The asyncio twin of :class:`VropsClient`; the same methods, awaited.

    Share one instance per event loop (the token auth itself may be shared across loops and
    threads). Arguments: see
    :class:`~veba_sdk.vrops._client_base._ClientBase` (``host``, ``username``, ``password``,
    ``verify``, ``timeout``, ``retry``, ``cache_host_ids``, ``transport`` ...).
    """

    _http_class = httpx.AsyncClient

    # -- lifecycle -------------------------------------------------------------

    async def aclose(self) -> None:
        """Release the token and close the connections. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            request = self._auth.build_release_request(self._http.base_url)
            if request is not None:
                try:
                    response = await self._send_request(request, auth=False)
                    log.debug("vROps token release -> %s", response.status_code)
                except httpx.HTTPError as exc:
                    log.debug("vROps token release failed: %s", type(exc).__name__)
        finally:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncVropsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- sending -----------------------------------------------------------------

    async def _send_request(self, request: httpx.Request, *, auth: bool) -> httpx.Response:
        """Send one request (``auth``: with the token), through :data:`_call.request_hook`
        when one is set (tracing's client spans)."""
        use_auth = httpx.USE_CLIENT_DEFAULT if auth else None
        hook = _call.request_hook
        if hook is None:
            return await self._http.send(request, auth=use_auth)
        with hook(request) as answered:
            response = await self._http.send(request, auth=use_auth)
            answered(response)
        return response

    async def _send_once(self, call: Call) -> httpx.Response:
        request = self._http.build_request(
            call.method, call.path, params=call.params or None, json=call.json
        )
        response = await self._send_request(request, auth=call.auth)
        return self._core.check(call, response)

    async def _send(self, call: Call) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the client is closed")
        try:
            if not call.retry:
                return await self._send_once(call)
            async for attempt in stamina.retry_context(
                on=self._core.retry.hook(call), **self._core.retry.stamina_kwargs()
            ):
                with attempt:
                    return await self._send_once(call)
        except httpx.HTTPError as exc:  # transport, decoding, redirects: all carry the request
            failure = self._core.failure(call, exc)
        else:
            raise AssertionError("unreachable: stamina either returns or raises")
        # Raised outside the handler, so nothing chains to the httpx error and its request
        # (the password in an acquire's body, the token in every other's headers).
        raise failure

    async def _run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                try:
                    response = await self._send(call)
                except VropsError as exc:
                    call = flow.throw(exc)
                else:
                    call = flow.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result

    # -- resources -----------------------------------------------------------------

    async def iter_resources(
        self,
        name: str | None = None,
        *,
        adapter_kind: str | None = None,
        resource_kind: str | None = None,
        identifiers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[Resource]:
        """Every resource the server lists for the query, fetching pages lazily.

        ``name`` is matched partially by the server, as vROps does; use
        :meth:`find_resources` for exact names.
        """
        query = ResourceQuery(
            name=name,
            adapter_kind=adapter_kind,
            resource_kind=resource_kind,
            identifiers=dict(identifiers or {}),
        )
        size = self._core.page_size
        page: int | None = 0
        while page is not None:
            result = parse_resources(await self._send(query.call(page, size)), page, size)
            for item in result.items:
                yield item
            page = next_page(result.info, page, size, len(result.items))

    async def find_resources(
        self,
        name: str | None = None,
        *,
        adapter_kind: str | None = None,
        resource_kind: str | None = None,
        identifiers: Mapping[str, str] | None = None,
    ) -> list[Resource]:
        """Resources named exactly ``name`` (all pages), optionally by kind/identifiers."""
        query = ResourceQuery(
            name=name,
            adapter_kind=adapter_kind,
            resource_kind=resource_kind,
            identifiers=dict(identifiers or {}),
        )
        return await self._run(self._core.find_resources(query))

    async def find_resource(
        self, name: str, *, adapter_kind: str | None = None, resource_kind: str | None = None
    ) -> Resource:
        """The one resource named exactly ``name``.

        Raises:
            VropsNotFound: none has that exact name.
            AmbiguousResource: several have; ``exc.matches`` lists them.
        """
        query = ResourceQuery(name=name, adapter_kind=adapter_kind, resource_kind=resource_kind)
        return await self._run(self._core.find_resource(query))

    async def find_by_identifiers(
        self,
        identifiers: Mapping[str, str],
        *,
        adapter_kind: str = "VMWARE",
        resource_kind: str = "HostSystem",
    ) -> list[Resource]:
        """Resources with these identifiers, e.g. ``{"VMEntityObjectID": "host-19",
        "VMEntityVCID": vcenter_uuid}``."""
        return await self.find_resources(
            adapter_kind=adapter_kind, resource_kind=resource_kind, identifiers=identifiers
        )

    async def find_host(self, name_or_moref: str, vcenter_uuid: str | None = None) -> Resource:
        """The HostSystem with this exact name, or this moref (``host-19``).

        ``vcenter_uuid`` (the event's vCenter instance UUID) narrows the search
        when several vCenters feed vROps.
        """
        return await self._run(self._core.find_host(name_or_moref, vcenter_uuid))

    async def host_id(self, name_or_moref: str, vcenter_uuid: str | None = None) -> str:
        """The host's resource id; served from the cache when ``cache_host_ids`` is on."""
        return await self._run(self._core.host_id(name_or_moref, vcenter_uuid))

    async def get_resource(self, resource_id: str) -> Resource:
        """One resource by id (``VropsNotFound`` if unknown)."""
        return await self._run(self._core.get_resource(resource_id))

    async def maintenance_state(self, resource_id: str) -> ResourceState:
        """The resource's state: ``STARTED``, ``MAINTAINED``, ``MAINTAINED_MANUAL`` ..."""
        resource = await self.get_resource(resource_id)
        return resource.state

    # -- maintenance -----------------------------------------------------------------

    async def mark_maintained(
        self,
        resource_id: str,
        *,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> None:
        """Put a resource in maintenance: for ``duration`` minutes (MAINTAINED), until
        ``end`` (MAINTAINED), or until unmarked (MAINTAINED_MANUAL)."""
        await self._send(self._core.mark_call(resource_id, duration, end))

    async def unmark_maintained(self, resource_id: str) -> None:
        """End a resource's maintenance."""
        await self._send(self._core.unmark_call(resource_id))

    async def mark_maintained_bulk(
        self,
        resource_ids: Sequence[str],
        *,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> None:
        """Put several resources in maintenance in one call."""
        await self._send(self._core.mark_bulk_call(resource_ids, duration, end))

    async def unmark_maintained_bulk(self, resource_ids: Sequence[str]) -> None:
        """End several resources' maintenance in one call."""
        await self._send(self._core.unmark_bulk_call(resource_ids))

    async def mark_host_maintained(
        self,
        name_or_moref: str,
        vcenter_uuid: str | None = None,
        *,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> str:
        """Find the host (or take its id from the cache) and mark it; returns its id."""
        return await self._run(
            self._core.set_host_maintained(
                name_or_moref, vcenter_uuid, maintained=True, duration=duration, end=end
            )
        )

    async def unmark_host_maintained(
        self, name_or_moref: str, vcenter_uuid: str | None = None
    ) -> str:
        """Find the host (or take its id from the cache) and end its maintenance."""
        return await self._run(
            self._core.set_host_maintained(name_or_moref, vcenter_uuid, maintained=False)
        )

    # -- alerts -----------------------------------------------------------------

    async def iter_alerts(
        self,
        *,
        resource_ids: Sequence[str] = (),
        alert_ids: Sequence[str] = (),
        active_only: bool = False,
        criticality: Sequence[Severity] = (),
    ) -> AsyncIterator[Alert]:
        """Alerts matching the criteria (all given must hold), pages fetched lazily."""
        body = alert_query_body(
            resource_ids=resource_ids,
            alert_ids=alert_ids,
            active_only=active_only,
            criticality=criticality,
        )
        size = self._core.page_size
        page: int | None = 0
        while page is not None:
            result = parse_alerts(await self._send(self._core.alerts_call(body, page)), page, size)
            for item in result.items:
                yield item
            page = next_page(result.info, page, size, len(result.items))

    async def query_alerts(
        self,
        *,
        resource_ids: Sequence[str] = (),
        alert_ids: Sequence[str] = (),
        active_only: bool = False,
        criticality: Sequence[Severity] = (),
    ) -> list[Alert]:
        """All alerts matching the criteria, as a list."""
        return [
            alert
            async for alert in self.iter_alerts(
                resource_ids=resource_ids,
                alert_ids=alert_ids,
                active_only=active_only,
                criticality=criticality,
            )
        ]

    async def suspend_alerts(self, alert_ids: Sequence[str], minutes: int) -> list[Alert]:
        """Suspend alerts for ``minutes``; returns them as the server reports them."""
        return await self._run(self._core.suspend_alerts(alert_ids, minutes))

    async def add_alert_note(self, alert_id: str, content: str) -> AlertNote:
        """Attach a note to an alert."""
        return await self._run(self._core.add_alert_note(alert_id, content))

    # -- properties, events, health ---------------------------------------------------

    async def push_properties(
        self,
        resource_id: str,
        properties: Mapping[str, str | int | float],
        *,
        timestamp: dt.datetime | None = None,
    ) -> None:
        """Add property values (``{"veba|lastEvent": "EnteredMaintenanceModeEvent"}``)."""
        await self._send(self._core.push_properties_call(resource_id, properties, timestamp))

    async def post_event(
        self,
        resource_id: str,
        message: str,
        *,
        severity: Severity = "INFORMATION",
        event_type: EventType = "NOTIFICATION",
        start: dt.datetime | None = None,
        managed_externally: bool = False,
    ) -> None:
        """Annotate a resource's timeline with an event."""
        await self._send(
            self._core.event_call(
                resource_id,
                message,
                severity=severity,
                event_type=event_type,
                start=start,
                managed_externally=managed_externally,
            )
        )

    async def node_status(self) -> NodeStatus:
        """The node health check (needs no token; a 503 reads as offline, not an error)."""
        return self._core.parse_node_status(await self._send(self._core.node_status_call()))
