"""Kept for imports of the first release: the stores live in :mod:`veba_sdk.idempotency`."""

from __future__ import annotations

from .idempotency._base import IdempotencyStore, Outcome
from .idempotency._memory import InMemoryIdempotencyStore

__all__ = ["IdempotencyStore", "InMemoryIdempotencyStore", "Outcome"]
