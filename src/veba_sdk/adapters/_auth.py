"""Sender checks (:mod:`veba_sdk.auth`) as the HTTP adapters run them.

Each adapter resolves its ``auth=`` once (:func:`veba_sdk.auth._env.resolve`: the object
given, else ``VEBA_AUTH``), and when there is one asks :func:`refused` (or
:func:`refused_async`) before reading the body, or, for a check that needs it (HMAC), after
reading and before decoding it. With no check configured the adapters skip this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..auth._base import Authenticator, Denial, Request, check_async, headers_from_pairs, log_denial
from ..auth._env import resolve
from ._http_common import Response, plain

__all__ = ["environ_headers", "refused", "refused_async", "resolve"]


def _answer(denial: Denial, request: Request) -> Response:
    log_denial(denial, request)
    return plain(denial.status, denial.reason, denial.headers)


def refused(
    auth: Authenticator, method: str, path: str, headers: Mapping[str, str], body: bytes | None
) -> Response | None:
    """The answer to a request ``auth`` refuses, or ``None`` to go on."""
    request = Request(method, path, headers, body)
    denial = auth.check(request)
    return None if denial is None else _answer(denial, request)


async def refused_async(
    auth: Authenticator,
    method: str,
    path: str,
    pairs: Iterable[tuple[bytes, bytes]],
    body: bytes | None,
) -> Response | None:
    """:func:`refused` for ASGI header pairs, from a coroutine (key fetches off the loop)."""
    request = Request(method, path, headers_from_pairs(pairs), body)
    denial = await check_async(auth, request)
    return None if denial is None else _answer(denial, request)


def environ_headers(environ: Mapping[str, Any], prefix: str = "HTTP_") -> dict[str, str]:
    """Every request header of a WSGI environ (or the classic watchdog's ``Http_*``
    variables, with ``prefix="Http_"``) as lower-case name to value."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith(prefix) and isinstance(value, str):
            headers[key[len(prefix) :].lower().replace("_", "-")] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = str(environ[key])
    return headers
