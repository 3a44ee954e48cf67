"""Handle each event once, however often it is delivered, on one replica or many.

Brokers deliver at least once (VEBA's Knative broker and Lambda's async invokes retry twice,
the event router replays after a restart), and functions scale out, so the same event can
reach two replicas at once. A store passed as ``Router(idempotency=store)`` makes the router
claim each event before its handlers run:

* :class:`InMemoryIdempotencyStore`: one process's memory (``Router(idempotency=True)``);
* :class:`RedisIdempotencyStore` ``.from_url(url)``: every replica of a Knative or OpenFaaS
  function (the ``redis`` extra);
* :class:`DynamoDBIdempotencyStore` ``(table_name)``: every Lambda sandbox (the ``dynamodb``
  extra).

All follow Powertools' model: a claim is atomic and expires if its process dies; a completed
record makes redeliveries no-ops for ``ttl`` seconds; a failed handling deletes the record so
the redelivery runs; a store that cannot be reached fails the delivery (retried), never skips
it. Keys come from :func:`idempotency_key`. The Redis and DynamoDB modules import their client
library on first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._base import AsyncIdempotencyStore, IdempotencyStore, IdempotencyStoreError, Outcome
from ._keys import idempotency_key
from ._memory import InMemoryIdempotencyStore

if TYPE_CHECKING:
    from ._dynamodb import DynamoDBIdempotencyStore
    from ._redis import RedisIdempotencyStore

__all__ = [
    "AsyncIdempotencyStore",
    "DynamoDBIdempotencyStore",
    "IdempotencyStore",
    "IdempotencyStoreError",
    "InMemoryIdempotencyStore",
    "Outcome",
    "RedisIdempotencyStore",
    "idempotency_key",
]

_LAZY = {
    "RedisIdempotencyStore": "._redis",
    "DynamoDBIdempotencyStore": "._dynamodb",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
