"""The in-process store (the default): one replica's memory.

Modelled on the idempotency utility of Powertools for AWS Lambda: a record per event key moves
from *in progress* to *completed*; a completed record makes redeliveries no-ops until its TTL
runs out; a failed handling deletes the record so the redelivery runs again; a concurrent
duplicate of an event still in progress is refused as retryable. Only deliveries reaching
the same process are deduplicated: replicas need a shared store (Redis, DynamoDB).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from ._base import IdempotencyStore, Outcome

__all__ = ["IdempotencyStore", "InMemoryIdempotencyStore", "Outcome"]


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
