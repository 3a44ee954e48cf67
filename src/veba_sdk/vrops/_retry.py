"""When a failed vROps call is tried again: the :class:`RetryPolicy` and ``Retry-After``."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from veba_sdk.vrops._call import Call
from veba_sdk.vrops._errors import VropsError

__all__ = ["RetryPolicy", "parse_retry_after"]


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
