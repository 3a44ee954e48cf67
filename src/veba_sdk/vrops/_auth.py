"""The vROps token as an :class:`httpx.Auth`.

The flow does no I/O of its own: it yields the token-acquire request, reads the
answer, and yields the caller's request with ``Authorization: <scheme> <token>``.
Its logic is written once, in :meth:`VropsTokenAuth._steps`; the three entries
httpx knows differ only in how they wait while another caller acquires:

* :meth:`~VropsTokenAuth.auth_flow` (driven by hand, or by httpx) blocks;
* :meth:`~VropsTokenAuth.sync_auth_flow` blocks too, and reads bodies, as httpx's own;
* :meth:`~VropsTokenAuth.async_auth_flow` awaits, never blocking the loop.

One token is shared by every thread, task and event loop using the object. A
caller that needs a token and finds none boards the one acquire in flight (a
:class:`_Flight`), or starts it: the others wait for it to land and look again,
so a crowd of cold callers causes exactly one acquire, and no lock is ever held
across a ``yield``. The token is renewed ahead of its ``validity`` (epoch ms;
``expiresAt`` is never parsed). On a 401 the token is re-acquired once - unless
another caller already did - and the request retried once; a second 401 is
returned to the client, which raises :class:`VropsAuthError`.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TypeVar

import attrs
import httpx

from veba_sdk.vrops._call import ACQUIRE_PATH, DEFAULT_BASE_PATH, RELEASE_PATH, SCHEMES
from veba_sdk.vrops._errors import VropsAuthError, VropsError
from veba_sdk.vrops._options import Scheme
from veba_sdk.vrops._redaction import Redactor
from veba_sdk.vrops._responses import error_from_response, json_body

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
        scheme: Scheme = "vRealizeOpsToken",
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
        self._flight: _Flight | None = None
        self._flight_guard = threading.Lock()
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

    # -- the flow, written once ---------------------------------------------------

    def _usable(self, rejected: _Token | None) -> _Token | None:
        """The current token if it may be sent: fresh, and not the one just rejected."""
        if rejected is None:
            return self._fresh()
        current = self._token
        if current is not None and current is not rejected and current.fresh(self._now_ms(), 0.0):
            return current
        return None

    def _board(self, rejected: _Token | None) -> tuple[_Token | None, _Flight, bool]:
        """Under the guard: a token that became usable, or the acquire in flight to wait
        for, or a new flight this caller leads (``True``)."""
        with self._flight_guard:
            token = self._usable(rejected)
            flight = self._flight
            if token is not None or flight is not None:
                return token, flight or _LANDED, False
            flight = self._flight = _Flight()
            return None, flight, True

    def _land(self, flight: _Flight) -> None:
        with self._flight_guard:
            if self._flight is flight:
                self._flight = None
        flight.land()

    def _obtain(self, request: httpx.Request, rejected: _Token | None) -> _Steps[_Token]:
        """A token to send: the current one, or one acquire shared with every caller."""
        while True:
            token = self._usable(rejected)
            if token is None:
                token, flight, leader = self._board(rejected)
            if token is not None:
                return token
            if not leader:
                yield flight  # the driver waits until it lands; then look again
                continue
            try:
                if rejected is not None:
                    self._token = None
                return self._store((yield self.build_acquire_request(request)))
            finally:
                self._land(flight)

    def _steps(self, request: httpx.Request) -> _Steps[None]:
        """The whole flow: requests to send, and flights to wait for."""
        token = self._fresh()  # the usual case, without a generator for it
        if token is None:
            token = yield from self._obtain(request, None)
        response = yield self._authorize(request, token)
        if response.status_code == 401:
            token = yield from self._obtain(request, token)
            yield self._authorize(request, token)

    # -- the entries httpx knows ----------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow, yielding requests and receiving responses (drive it by hand with
        ``next``/``send``); waits for another caller's acquire by blocking."""
        steps = self._steps(request)
        try:
            step = next(steps)
            while True:
                if isinstance(step, _Flight):
                    step.wait()
                    step = next(steps)
                else:
                    step = steps.send((yield step))
        except StopIteration:
            return
        finally:
            steps.close()

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow for :class:`httpx.Client`: :meth:`auth_flow` with bodies read (driving the
        steps itself: one generator less per request)."""
        steps = self._steps(request)
        try:
            step = next(steps)
            while True:
                if isinstance(step, _Flight):
                    step.wait()
                    step = next(steps)
                else:
                    response = yield step
                    response.read()
                    step = steps.send(response)
        except StopIteration:
            return
        finally:
            steps.close()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow for :class:`httpx.AsyncClient`: waits for another caller's acquire by
        awaiting it, so the loop is never blocked (from any loop or thread)."""
        steps = self._steps(request)
        try:
            step = next(steps)
            while True:
                if isinstance(step, _Flight):
                    await step.wait_async()
                    step = next(steps)
                else:
                    response = yield step
                    await response.aread()
                    step = steps.send(response)
        except StopIteration:
            return
        finally:
            steps.close()


class _Flight:
    """One token acquire in progress. Its leader lands it (acquired or not) when done;
    the callers that boarded it wait, then look for the token again."""

    __slots__ = ("_landed",)

    def __init__(self) -> None:
        self._landed: concurrent.futures.Future[None] = concurrent.futures.Future()
        # Running: a waiter cancelled while awaiting it can never cancel it for the others.
        self._landed.set_running_or_notify_cancel()

    def land(self) -> None:
        """Wake every waiter. Idempotent."""
        if not self._landed.done():
            self._landed.set_result(None)

    def wait(self) -> None:
        """Block until it lands."""
        self._landed.result()

    async def wait_async(self) -> None:
        """Await its landing on the running loop (it may land in another thread)."""
        await asyncio.wrap_future(self._landed)


#: What :meth:`VropsTokenAuth._board` answers when a token is at hand: nothing to wait for.
_LANDED = _Flight()
_LANDED.land()

T = TypeVar("T")
#: The flow's steps: requests to send (answered with their response) or flights to wait for.
_Steps = Generator["httpx.Request | _Flight", httpx.Response, T]
