"""The vROps token as an :class:`httpx.Auth`.

The flow does no I/O of its own: it yields the token-acquire request, reads the
answer, and yields the caller's request with ``Authorization: <scheme> <token>``.
One token is shared by every thread and task using the object:

* ``sync_auth_flow`` serialises acquiring with a :class:`threading.Lock`;
* ``async_auth_flow`` first queues tasks on an :class:`asyncio.Lock` of the
  running loop (created lazily, one per loop, so the object works from several
  loops), then takes the same thread lock without blocking the loop.

Whoever gets the lock re-checks the token first, so a crowd of cold callers
causes exactly one acquire. The token is renewed ahead of its ``validity``
(epoch ms; ``expiresAt`` is never parsed). On a 401 the token is re-acquired
once - unless another caller already did - and the request retried once;
a second 401 is returned to the client, which raises :class:`VropsAuthError`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator

import attrs
import httpx

from veba_sdk.vrops._base import (
    ACQUIRE_PATH,
    DEFAULT_BASE_PATH,
    RELEASE_PATH,
    SCHEMES,
    Redactor,
    error_from_response,
    json_body,
)
from veba_sdk.vrops._errors import VropsAuthError, VropsError

__all__ = ["VropsTokenAuth"]


@attrs.frozen(repr=False)
class _Token:
    value: str
    validity_ms: int
    acquired_ms: int

    def fresh(self, now_ms: int, renew_before_ms: float) -> bool:
        lifetime = max(self.validity_ms - self.acquired_ms, 0)
        margin = min(renew_before_ms, lifetime * 0.1)
        return now_ms < self.validity_ms - margin

    def __repr__(self) -> str:
        return f"_Token(***, validity_ms={self.validity_ms})"


class VropsTokenAuth(httpx.Auth):
    """Token authentication for vROps / Aria Operations / VCF Operations.

    Args:
        username: the vROps user.
        password: its password; never logged, never in a repr.
        auth_source: the authentication source name (``None`` for local users).
        scheme: ``"vRealizeOpsToken"`` (default, 8.x and 9.x) or ``"OpsToken"``
            (8.17 and later).
        base_path: where the API lives on the host (``/suite-api``).
        renew_before: seconds before ``validity`` at which the token is renewed
            (at most a tenth of the token's lifetime).
        clock: seconds since the epoch; injectable for tests.
    """

    requires_request_body = False
    requires_response_body = True

    def __init__(
        self,
        username: str,
        password: str,
        auth_source: str | None = None,
        *,
        scheme: str = "vRealizeOpsToken",
        base_path: str = DEFAULT_BASE_PATH,
        renew_before: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, not {scheme!r}")
        if not username or not password:
            raise ValueError("username and password are required")
        self.username = username
        self.__password = password
        self.auth_source = auth_source or None
        self.scheme = scheme
        self._base_path = base_path
        self._renew_before_ms = renew_before * 1000.0
        self._clock = clock
        self._token: _Token | None = None
        self._recent: collections.deque[str] = collections.deque(maxlen=8)
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._loop_locks_guard = threading.Lock()
        #: how many tokens this object acquired (for tests and metrics)
        self.acquire_count = 0
        self.redact = Redactor(self.secrets)

    def __repr__(self) -> str:
        state = "set" if self._token is not None else "none"
        return (
            f"VropsTokenAuth(username={self.username!r}, auth_source={self.auth_source!r}, "
            f"scheme={self.scheme!r}, token={state})"
        )

    # -- pure pieces ---------------------------------------------------------

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in text: password and recent tokens."""
        return (self.__password, *self._recent)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _fresh(self) -> _Token | None:
        token = self._token
        if token is not None and token.fresh(self._now_ms(), self._renew_before_ms):
            return token
        return None

    def build_acquire_request(self, request: httpx.Request) -> httpx.Request:
        """``POST .../auth/token/acquire`` next to ``request``; never with Authorization."""
        body: dict[str, str] = {"username": self.username, "password": self.__password}
        if self.auth_source:
            body["authSource"] = self.auth_source
        url = request.url.copy_with(path=self._base_path + ACQUIRE_PATH, query=None)
        extensions = {k: v for k, v in request.extensions.items() if k == "timeout"}
        return httpx.Request(
            "POST",
            url,
            json=body,
            headers={"Accept": "application/json"},
            extensions=extensions,
        )

    def build_release_request(self, base_url: httpx.URL) -> httpx.Request | None:
        """``POST .../auth/token/release`` for the current token, which is forgotten.

        ``base_url`` is the client's base URL (ending in the base path).
        Returns ``None`` when there is no token to release.
        """
        token, self._token = self._token, None
        if token is None or not token.fresh(self._now_ms(), 0.0):
            return None
        url = base_url.copy_with(path=self._base_path + RELEASE_PATH, query=None)
        return httpx.Request(
            "POST",
            url,
            headers={
                "Accept": "application/json",
                "Authorization": f"{self.scheme} {token.value}",
            },
        )

    def _store(self, response: httpx.Response) -> _Token:
        """Read an acquire answer; raise on refusal."""
        if response.status_code != 200:
            context = "token acquire refused"
            if response.status_code in (401, 403):
                err = error_from_response(response, self.redact, context=context)
                raise VropsAuthError(
                    err.message,
                    status=err.status,
                    api_error_code=err.api_error_code,
                    validation_failures=err.validation_failures,
                )
            raise error_from_response(response, self.redact, context=context)
        data = json_body(response)
        token = data.get("token") if isinstance(data, dict) else None
        validity = data.get("validity") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token or not isinstance(validity, int):
            raise VropsError("token acquire answer lacks token/validity", status=200)
        stored = _Token(value=token, validity_ms=validity, acquired_ms=self._now_ms())
        self._recent.append(token)
        self._token = stored
        self.acquire_count += 1
        return stored

    def _authorize(self, request: httpx.Request, token: _Token) -> httpx.Request:
        request.headers["Authorization"] = f"{self.scheme} {token.value}"
        request.headers["Accept"] = "application/json"
        return request

    def _stale(self, used: _Token) -> bool:
        """True when nobody replaced the token ``used`` since it was rejected."""
        current = self._token
        return current is None or current is used or not current.fresh(self._now_ms(), 0.0)

    # -- flows -----------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Unlocked flow (for driving by hand); the clients use the locked twins below."""
        token = self._fresh()
        if token is None:
            token = self._store((yield self.build_acquire_request(request)))
        response = yield self._authorize(request, token)
        if response.status_code == 401:
            if self._stale(token):
                self._token = None
                token = self._store((yield self.build_acquire_request(request)))
            else:
                token = self._token or token
            yield self._authorize(request, token)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow for :class:`httpx.Client`; acquiring is serialised across threads."""
        token = self._fresh()
        if token is None:
            with self._thread_lock:
                token = self._fresh()
                if token is None:
                    response = yield self.build_acquire_request(request)
                    response.read()
                    token = self._store(response)
        response = yield self._authorize(request, token)
        if response.status_code != 401:
            return
        with self._thread_lock:
            if self._stale(token):
                self._token = None
                acquired = yield self.build_acquire_request(request)
                acquired.read()
                token = self._store(acquired)
            else:
                token = self._token or token
        yield self._authorize(request, token)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow for :class:`httpx.AsyncClient`; acquiring is serialised across tasks,
        loops and threads."""
        token = self._fresh()
        if token is None:
            async with self._async_lock():
                token = self._fresh()
                if token is None:
                    response = yield self.build_acquire_request(request)
                    await response.aread()
                    token = self._store(response)
        response = yield self._authorize(request, token)
        if response.status_code != 401:
            return
        async with self._async_lock():
            if self._stale(token):
                self._token = None
                acquired = yield self.build_acquire_request(request)
                await acquired.aread()
                token = self._store(acquired)
            else:
                token = self._token or token
        yield self._authorize(request, token)

    # -- locks -----------------------------------------------------------------

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._loop_locks_guard:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock

    @contextlib.asynccontextmanager
    async def _async_lock(self) -> AsyncIterator[None]:
        async with self._loop_lock():
            # Other loops or sync threads may hold the thread lock; poll for it
            # so the loop is never blocked (cancellation stays safe: we never
            # wait inside a thread that could take the lock after we left).
            delay = 0.001
            while not self._thread_lock.acquire(blocking=False):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                self._thread_lock.release()
