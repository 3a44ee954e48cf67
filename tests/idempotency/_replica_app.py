"""The Knative app each replica runs: one handler on a shared Redis idempotency store.

The handler appends ``started <pid> <key>`` when it begins and ``handled <pid> <key>`` when it
ends to ``$HANDLED_LOG`` (one small ``O_APPEND`` write each, whole lines across processes). It
sleeps ``$HANDLER_DELAY`` seconds, or until ``$SLOW_DIR/<key>`` is gone when that file exists
(the SIGKILL test holds a replica mid-handler that way).
"""

from __future__ import annotations

import os
import time
from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi
from veba_sdk.idempotency import RedisIdempotencyStore

store = RedisIdempotencyStore.from_url(
    os.environ["REDIS_URL"],
    ttl=600,
    in_progress_ttl=float(os.environ.get("IN_PROGRESS_TTL", "30")),
    prefix=os.environ.get("REDIS_PREFIX", "veba:idempotency:"),
    socket_timeout=1.0,
    socket_connect_timeout=1.0,
)
router = Router(idempotency=store)
LOG = os.environ["HANDLED_LOG"]
DELAY = float(os.environ.get("HANDLER_DELAY", "0.2"))
SLOW_DIR = os.environ.get("SLOW_DIR", "")


def _note(what: str, key: Any) -> None:
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{what} {os.getpid()} {key}\n".encode())
    finally:
        os.close(fd)


@router.on("*")
def handle(event: Any) -> None:
    _note("started", event.key)
    flag = os.path.join(SLOW_DIR, str(event.key)) if SLOW_DIR else ""
    if flag and os.path.exists(flag):
        while os.path.exists(flag):
            time.sleep(0.05)
    else:
        time.sleep(DELAY)
    _note("handled", event.key)


app = asgi(router)
