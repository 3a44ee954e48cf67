"""Handle each vCenter event once, however often the broker redelivers it.

Modelled on the idempotency utility of Powertools for AWS Lambda: a record per event key moves
from *in progress* to *completed*; a completed record makes redeliveries no-ops until its TTL
runs out; a failed handling deletes the record so the redelivery runs again; a concurrent
duplicate of an event still in progress is refused as retryable.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Literal, Protocol, runtime_checkable

__all__ = ["IdempotencyStore", "InMemoryIdempotencyStore", "Outcome"]

Outcome = Literal["new", "completed", "in_progress"]


@runtime_checkable
class IdempotencyStore(Protocol):
    """Where the router remembers which events it already handled.

    Keys are ``(source, event key)`` rendered as one string. Implementations must make
    :meth:`begin` atomic: of two concurrent callers with the same key, only one gets ``"new"``.
    """

    def begin(self, key: str) -> Outcome:
        """Claim ``key``: ``"new"`` if this caller should handle it, else why not."""
        ...

    def complete(self, key: str) -> None:
        """Record that ``key`` was handled successfully."""
        ...

    def abandon(self, key: str) -> None:
        """Forget ``key`` after a failed handling, so a redelivery runs again."""
        ...


class InMemoryIdempotencyStore:
    """A thread-safe, bounded, in-process store with TTLs (the default).

    Args:
        ttl: seconds a completed event is remembered (default one hour).
        in_progress_ttl: seconds after which an in-progress claim is presumed dead.
        max_entries: the oldest records are dropped beyond this many.
    """

    def __init__(
        self, *, ttl: float = 3600.0, in_progress_ttl: float = 300.0, max_entries: int = 100_000
    ) -> None:
        self.ttl = ttl
        self.in_progress_ttl = in_progress_ttl
        self.max_entries = max_entries
        self._records: OrderedDict[str, tuple[bool, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = time.monotonic

    def begin(self, key: str) -> Outcome:
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                completed, expires = record
                if expires > now:
                    return "completed" if completed else "in_progress"
                del self._records[key]
            self._records[key] = (False, now + self.in_progress_ttl)
            while len(self._records) > self.max_entries:
                self._records.popitem(last=False)
            return "new"

    def complete(self, key: str) -> None:
        with self._lock:
            self._records[key] = (True, self._clock() + self.ttl)
            self._records.move_to_end(key)

    def abandon(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"InMemoryIdempotencyStore(ttl={self.ttl}, entries={len(self._records)})"
