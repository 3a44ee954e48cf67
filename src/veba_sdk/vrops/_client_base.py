"""What :class:`VropsClient` and :class:`AsyncVropsClient` share: building, settings, repr."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from veba_sdk.vrops._auth import VropsTokenAuth
from veba_sdk.vrops._base import base_url, warn_if_insecure
from veba_sdk.vrops._call import DEFAULT_BASE_PATH
from veba_sdk.vrops._core import ClientCore
from veba_sdk.vrops._options import Scheme
from veba_sdk.vrops._retry import RetryPolicy
from veba_sdk.vrops._settings import settings_from_env

__all__ = ["DEFAULT_TIMEOUT", "VerifyTypes"]

VerifyTypes = bool | str | os.PathLike[str] | ssl.SSLContext
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _prepare(
    host: str,
    username: str,
    password: str,
    *,
    auth_source: str | None,
    verify: VerifyTypes,
    scheme: Scheme,
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
    _auth: VropsTokenAuth
    _core: ClientCore

    def __init__(
        self,
        host: str,
        username: str,
        password: str,
        *,
        auth_source: str | None = None,
        verify: VerifyTypes = True,
        scheme: Scheme = "vRealizeOpsToken",
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
