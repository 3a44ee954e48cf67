"""The idempotency benchmark's contenders: veba-sdk's Knative app, ``def`` handler, with no
store, the in-memory store, and the Redis store on ``$VEBA_BENCH_REDIS_URL``."""

from __future__ import annotations

import os
from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi
from veba_sdk.idempotency import InMemoryIdempotencyStore, RedisIdempotencyStore

SEEN: list[str] = [""]


def _app(store: Any) -> Any:
    router = Router(idempotency=store)

    @router.on("EnteredMaintenanceModeEvent")
    def on_maintenance(event: Any) -> None:
        """Read the host's name, like a real handler would before acting on it."""
        SEEN[0] = event.host.name

    return asgi(router)


app_none = _app(None)
app_memory = _app(InMemoryIdempotencyStore())
app_redis = _app(
    RedisIdempotencyStore.from_url(os.environ.get("VEBA_BENCH_REDIS_URL", "redis://127.0.0.1"))
)
