"""The synchronous vROps client."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import httpx
import stamina

from veba_sdk.vrops._auth import VropsTokenAuth
from veba_sdk.vrops._base import (
    DEFAULT_BASE_PATH,
    Call,
    ClientCore,
    Flow,
    ResourceQuery,
    RetryPolicy,
    alert_query_body,
    base_url,
    log,
    next_page,
    parse_alerts,
    parse_resources,
    settings_from_env,
    warn_if_insecure,
)
from veba_sdk.vrops._errors import VropsError
from veba_sdk.vrops._models import Alert, AlertNote, NodeStatus, Resource, ResourceState
from veba_sdk.vrops._shared import SharedOverride, shared_clients

__all__ = ["VropsClient"]

T = TypeVar("T")
VerifyTypes = bool | str | os.PathLike[str] | ssl.SSLContext
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _prepare(
    host: str,
    username: str,
    password: str,
    *,
    auth_source: str | None,
    verify: VerifyTypes,
    scheme: str,
    retry: RetryPolicy | None,
    page_size: int,
    cache_host_ids: bool,
    base_path: str,
    renew_before: float,
) -> tuple[httpx.URL, VropsTokenAuth, ClientCore, bool | str | ssl.SSLContext]:
    """Everything both clients build before they can send."""
    url = base_url(host, base_path)
    auth = VropsTokenAuth(
        username,
        password,
        auth_source,
        scheme=scheme,
        base_path=base_path,
        renew_before=renew_before,
    )
    core = ClientCore(
        page_size=page_size,
        retry=retry or RetryPolicy(),
        cache_host_ids=cache_host_ids,
        redact=auth.redact,
    )
    checked = os.fspath(verify) if isinstance(verify, os.PathLike) else verify
    warn_if_insecure(checked, url.host)
    return url, auth, core, checked


C = TypeVar("C", bound="_ClientBase[Any]")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class _ClientBase(Generic[HttpT]):
    """What :class:`VropsClient` and :class:`AsyncVropsClient` share: everything but sending.

    The token is acquired on first use, shared by all threads (and tasks), renewed ahead of
    its validity and released by ``close``/``aclose`` (or leaving the ``with`` block).

    Args:
        host: ``vrops.example.com``, or a URL such as ``https://vrops:443``.
        username, password, auth_source: the credentials for the token.
        verify: ``True`` (default), ``False`` (logs a warning once), a CA bundle
            path, or an :class:`ssl.SSLContext`.
        scheme: ``"vRealizeOpsToken"`` or ``"OpsToken"``.
        timeout: seconds, or an :class:`httpx.Timeout`; applies to every call.
        retry: the :class:`RetryPolicy`.
        page_size: entries per page when listing.
        cache_host_ids: remember host name/moref -> resource id, so that
            ``mark_host_maintained`` needs one request in steady state.
        transport: an httpx transport of the client's kind (tests:
            ``FakeVrops.sync_transport()`` / ``httpx.ASGITransport(fake)``).
    """

    #: ``httpx.Client`` or ``httpx.AsyncClient``: the one thing the twins build differently.
    _http_class: ClassVar[type[Any]]
    _http: HttpT

    def __init__(
        self,
        host: str,
        username: str,
        password: str,
        *,
        auth_source: str | None = None,
        verify: VerifyTypes = True,
        scheme: str = "vRealizeOpsToken",
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        page_size: int = 1000,
        cache_host_ids: bool = False,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        base_path: str = DEFAULT_BASE_PATH,
        renew_before: float = 300.0,
    ) -> None:
        url, self._auth, self._core, checked = _prepare(
            host,
            username,
            password,
            auth_source=auth_source,
            verify=verify,
            scheme=scheme,
            retry=retry,
            page_size=page_size,
            cache_host_ids=cache_host_ids,
            base_path=base_path,
            renew_before=renew_before,
        )
        self._http = self._http_class(
            base_url=url,
            auth=self._auth,
            verify=checked,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._closed = False

    @classmethod
    def from_env(
        cls: type[C],
        *,
        environ: Mapping[str, str] | None = None,
        secrets_dir: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> C:
        """Build a client from ``VROPS_HOST``, ``VROPS_USERNAME``, ``VROPS_PASSWORD``,
        ``VROPS_AUTH_SOURCE``, ``VROPS_VERIFY``, ``VROPS_AUTH_SCHEME``, ``VROPS_RETRY_ATTEMPTS``,
        ``VROPS_RETRY_TIMEOUT`` (or VEBA's ``vropsFqdn``/``vropsUser``/``vropsPassword``),
        from the environment or from files in ``secrets_dir`` (default ``$VEBA_SECRETS_DIR``
        or ``/var/openfaas/secrets``). Keyword ``overrides`` win."""
        settings = settings_from_env(environ, secrets_dir)
        settings.update(overrides)
        return cls(**settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._http.base_url)!r}, auth={self._auth!r})"

    @property
    def auth(self) -> VropsTokenAuth:
        """The token auth (shared by every call of this client)."""
        return self._auth

    @property
    def base_url(self) -> httpx.URL:
        """The API base URL (ending in ``/suite-api``)."""
        return self._http.base_url


class VropsClient(_ClientBase[httpx.Client]):
    """A vROps (Aria Operations / VCF Operations) client for one appliance.

    Thread-safe: share one instance per process. Arguments: see :class:`_ClientBase`
    (``host``, ``username``, ``password``, ``verify``, ``timeout``, ``retry``,
    ``cache_host_ids``, ``transport`` ...).
    """

    _http_class = httpx.Client

    # -- the process-wide client -------------------------------------------------

    @classmethod
    def shared(cls, **options: Any) -> VropsClient:
        """The process-wide client, made from the environment on the first call.

        Call it where the client is used (in the handler), not at import time, so importing
        the handler module needs no vROps settings (``veba manifests``, tests)::

            @on("EnteredMaintenanceModeEvent")
            def mark(event, ctx):
                vrops = VropsClient.shared()
                vrops.mark_maintained(vrops.host_id(event.host.name))

        Made once under a lock: one client and one token for every thread. ``options`` go to
        :meth:`from_env` when the client is made (``cache_host_ids=True``); a later call that
        gives options must give the same ones. A client closed by mistake (``with
        VropsClient.shared() as ...``) is made again. The test kit's ``vrops_client`` fixture
        (or :meth:`set_shared`) makes it answer a client on ``FakeVrops``.

        Raises:
            VropsError: the environment has no vROps settings (nothing is kept: the next call
                tries again).
            ValueError: ``options`` differ from those the shared client was made with.
        """
        return shared_clients(cls, close=VropsClient.close).get(options)

    @classmethod
    def set_shared(cls, client: VropsClient | None) -> SharedOverride:
        """Make :meth:`shared` answer ``client`` (tests, or a client built by hand).

        ``None`` forgets the override and closes the client made from the environment, so the
        next :meth:`shared` reads the environment again. Takes effect at once; used as a
        context manager, leaving the block puts back what :meth:`shared` answered before::

            with VropsClient.set_shared(FakeVrops().client()):
                ...
        """
        return shared_clients(cls, close=VropsClient.close).replace(client)

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Release the token and close the connections. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            request = self._auth.build_release_request(self._http.base_url)
            if request is not None:
                try:
                    response = self._http.send(request, auth=None)
                    log.debug("vROps token release -> %s", response.status_code)
                except httpx.HTTPError as exc:
                    log.debug("vROps token release failed: %s", type(exc).__name__)
        finally:
            self._http.close()

    def __enter__(self) -> VropsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()

    # -- sending -----------------------------------------------------------------

    def _send_once(self, call: Call) -> httpx.Response:
        response = self._http.request(
            call.method,
            call.path,
            params=call.params or None,
            json=call.json,
            auth=httpx.USE_CLIENT_DEFAULT if call.auth else None,
        )
        return self._core.check(call, response)

    def _send(self, call: Call) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the client is closed")
        try:
            if not call.retry:
                return self._send_once(call)
            for attempt in stamina.retry_context(
                on=self._core.retry.hook(call), **self._core.retry.stamina_kwargs()
            ):
                with attempt:
                    return self._send_once(call)
        except httpx.HTTPError as exc:  # transport, decoding, redirects: all carry the request
            failure = self._core.failure(call, exc)
        else:
            raise AssertionError("unreachable: stamina either returns or raises")
        # Raised outside the handler, so nothing chains to the httpx error and its request
        # (the password in an acquire's body, the token in every other's headers).
        raise failure

    def _run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                try:
                    response = self._send(call)
                except VropsError as exc:
                    call = flow.throw(exc)
                else:
                    call = flow.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result

    # -- resources -----------------------------------------------------------------

    def iter_resources(
        self,
        name: str | None = None,
        *,
        adapter_kind: str | None = None,
        resource_kind: str | None = None,
        identifiers: Mapping[str, str] | None = None,
    ) -> Iterator[Resource]:
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
            result = parse_resources(self._send(query.call(page, size)), page, size)
            yield from result.items
            page = next_page(result.info, page, size, len(result.items))

    def find_resources(
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
        return self._run(self._core.find_resources(query))

    def find_resource(
        self, name: str, *, adapter_kind: str | None = None, resource_kind: str | None = None
    ) -> Resource:
        """The one resource named exactly ``name``.

        Raises:
            VropsNotFound: none has that exact name.
            AmbiguousResource: several have; ``exc.matches`` lists them.
        """
        query = ResourceQuery(name=name, adapter_kind=adapter_kind, resource_kind=resource_kind)
        return self._run(self._core.find_resource(query))

    def find_by_identifiers(
        self,
        identifiers: Mapping[str, str],
        *,
        adapter_kind: str = "VMWARE",
        resource_kind: str = "HostSystem",
    ) -> list[Resource]:
        """Resources with these identifiers, e.g. ``{"VMEntityObjectID": "host-19",
        "VMEntityVCID": vcenter_uuid}``."""
        return self.find_resources(
            adapter_kind=adapter_kind, resource_kind=resource_kind, identifiers=identifiers
        )

    def find_host(self, name_or_moref: str, vcenter_uuid: str | None = None) -> Resource:
        """The HostSystem with this exact name, or this moref (``host-19``).

        ``vcenter_uuid`` (the event's vCenter instance UUID) narrows the search
        when several vCenters feed vROps.
        """
        return self._run(self._core.find_host(name_or_moref, vcenter_uuid))

    def host_id(self, name_or_moref: str, vcenter_uuid: str | None = None) -> str:
        """The host's resource id; served from the cache when ``cache_host_ids`` is on."""
        return self._run(self._core.host_id(name_or_moref, vcenter_uuid))

    def get_resource(self, resource_id: str) -> Resource:
        """One resource by id (``VropsNotFound`` if unknown)."""
        return self._run(self._core.get_resource(resource_id))

    def maintenance_state(self, resource_id: str) -> ResourceState:
        """The resource's state: ``STARTED``, ``MAINTAINED``, ``MAINTAINED_MANUAL`` ..."""
        return self.get_resource(resource_id).state

    # -- maintenance -----------------------------------------------------------------

    def mark_maintained(
        self,
        resource_id: str,
        *,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> None:
        """Put a resource in maintenance: for ``duration`` minutes (MAINTAINED), until
        ``end`` (MAINTAINED), or until unmarked (MAINTAINED_MANUAL)."""
        self._send(self._core.mark_call(resource_id, duration, end))

    def unmark_maintained(self, resource_id: str) -> None:
        """End a resource's maintenance."""
        self._send(self._core.unmark_call(resource_id))

    def mark_maintained_bulk(
        self,
        resource_ids: Sequence[str],
        *,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> None:
        """Put several resources in maintenance in one call."""
        self._send(self._core.mark_bulk_call(resource_ids, duration, end))

    def unmark_maintained_bulk(self, resource_ids: Sequence[str]) -> None:
        """End several resources' maintenance in one call."""
        self._send(self._core.unmark_bulk_call(resource_ids))

    def mark_host_maintained(
        self,
        name_or_moref: str,
        vcenter_uuid: str | None = None,
        *,
        duration: float | dt.timedelta | None = None,
        end: dt.datetime | None = None,
    ) -> str:
        """Find the host (or take its id from the cache) and mark it; returns its id."""
        return self._run(
            self._core.set_host_maintained(
                name_or_moref, vcenter_uuid, maintained=True, duration=duration, end=end
            )
        )

    def unmark_host_maintained(self, name_or_moref: str, vcenter_uuid: str | None = None) -> str:
        """Find the host (or take its id from the cache) and end its maintenance."""
        return self._run(
            self._core.set_host_maintained(name_or_moref, vcenter_uuid, maintained=False)
        )

    # -- alerts -----------------------------------------------------------------

    def iter_alerts(
        self,
        *,
        resource_ids: Sequence[str] = (),
        alert_ids: Sequence[str] = (),
        active_only: bool = False,
        criticality: Sequence[str] = (),
    ) -> Iterator[Alert]:
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
            result = parse_alerts(self._send(self._core.alerts_call(body, page)), page, size)
            yield from result.items
            page = next_page(result.info, page, size, len(result.items))

    def query_alerts(
        self,
        *,
        resource_ids: Sequence[str] = (),
        alert_ids: Sequence[str] = (),
        active_only: bool = False,
        criticality: Sequence[str] = (),
    ) -> list[Alert]:
        """All alerts matching the criteria, as a list."""
        return list(
            self.iter_alerts(
                resource_ids=resource_ids,
                alert_ids=alert_ids,
                active_only=active_only,
                criticality=criticality,
            )
        )

    def suspend_alerts(self, alert_ids: Sequence[str], minutes: int) -> list[Alert]:
        """Suspend alerts for ``minutes``; returns them as the server reports them."""
        return self._run(self._core.suspend_alerts(alert_ids, minutes))

    def add_alert_note(self, alert_id: str, content: str) -> AlertNote:
        """Attach a note to an alert."""
        return self._run(self._core.add_alert_note(alert_id, content))

    # -- properties, events, health ---------------------------------------------------

    def push_properties(
        self,
        resource_id: str,
        properties: Mapping[str, str | int | float],
        *,
        timestamp: dt.datetime | None = None,
    ) -> None:
        """Add property values (``{"veba|lastEvent": "EnteredMaintenanceModeEvent"}``)."""
        self._send(self._core.push_properties_call(resource_id, properties, timestamp))

    def post_event(
        self,
        resource_id: str,
        message: str,
        *,
        severity: str = "INFORMATION",
        event_type: str = "NOTIFICATION",
        start: dt.datetime | None = None,
        managed_externally: bool = False,
    ) -> None:
        """Annotate a resource's timeline with an event."""
        self._send(
            self._core.event_call(
                resource_id,
                message,
                severity=severity,
                event_type=event_type,
                start=start,
                managed_externally=managed_externally,
            )
        )

    def node_status(self) -> NodeStatus:
        """The node health check (needs no token; a 503 reads as offline, not an error)."""
        return self._core.parse_node_status(self._send(self._core.node_status_call()))
