"""One HTTP call of the vROps API, and the flows that yield them.

A :class:`Call` is relative to the base path (``/suite-api``); a :data:`Flow` is a generator
that yields calls, receives each call's :class:`httpx.Response` (or has the call's
:class:`~veba_sdk.vrops.VropsError` thrown in), and returns its result. Both clients drive
the same flows; only sending differs.

:data:`request_hook` is the one hook on what the clients send: :mod:`veba_sdk.tracing`
sets it (once a handler runs with tracing on) to give each request a ``CLIENT`` span. Only
these clients' requests pass through it; no other ``httpx`` client is touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from typing import Any, Final, TypeVar

import attrs
import httpx

from veba_sdk.vrops._options import Scheme

__all__ = [
    "ACQUIRE_PATH",
    "DEFAULT_BASE_PATH",
    "RELEASE_PATH",
    "SCHEMES",
    "Call",
    "Flow",
    "RequestHook",
    "log",
    "request_hook",
    "set_request_hook",
]

#: The logger of the vROps client (never given a secret).
log = logging.getLogger("veba_sdk.vrops")

T = TypeVar("T")

DEFAULT_BASE_PATH: Final = "/suite-api"
ACQUIRE_PATH: Final = "/api/auth/token/acquire"
RELEASE_PATH: Final = "/api/auth/token/release"
SCHEMES: Final[tuple[Scheme, ...]] = ("vRealizeOpsToken", "OpsToken")

#: A flow yields calls, receives responses, and returns its result.
Flow = Generator["Call", httpx.Response, T]

#: Wraps the sending of one request: called with the request before it is sent (it may add
#: headers), entered around the send, and the value it enters as is called with the response
#: (an exception leaves the block instead).
RequestHook = Callable[[httpx.Request], AbstractContextManager[Callable[[httpx.Response], None]]]

#: The hook every request of :class:`~veba_sdk.vrops.VropsClient` and
#: :class:`~veba_sdk.vrops.AsyncVropsClient` goes through (token acquisitions on the way are
#: part of their request's); ``None``, the default, costs one attribute read per request.
request_hook: RequestHook | None = None


def set_request_hook(hook: RequestHook | None) -> None:
    """Make ``hook`` the one every vROps request goes through (``None`` removes it)."""
    global request_hook
    request_hook = hook


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
