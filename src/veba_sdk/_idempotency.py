"""Kept for imports of the first release: the stores live in :mod:`veba_sdk.idempotency`."""

from __future__ import annotations

from .idempotency import IdempotencyStore, InMemoryIdempotencyStore, Outcome

__all__ = ["IdempotencyStore", "InMemoryIdempotencyStore", "Outcome"]
