"""The Knative apps the real-server tests serve (uvicorn, gunicorn, func-python), and the router.

Imported by the servers in their own processes, so everything a test observes comes back over
HTTP: the ``describe`` handler answers what it saw as JSON, a ``vebatest`` CloudEvent extension
asks for a reply (``reply``), a failure (``fail``) or thread facts (``threads``), and handlers
that must be seen to have run append a line to the file named by ``VEBA_TEST_LOG``.
"""

from __future__ import annotations

import gc
import os
import threading
from typing import Any

from veba_sdk import Context, Router
from veba_sdk.adapters import knative

# Every fixture's event is routed; anything else (e.g. UserLoginSessionEvent) matches nothing.
ROUTED = (
    "Vm*Event",
    "DrsVmPoweredOnEvent",
    "EnteredMaintenanceModeEvent",
    "ExitMaintenanceModeEvent",
    "AlarmStatusChangedEvent",
    "TaskEvent",
    "com.vmware.*",
)

router = Router()


def _mode(ctx: Context) -> str | None:
    value = ctx.extensions.get("vebatest")
    return None if value is None else str(value)


def _log(line: str) -> None:
    path = os.environ.get("VEBA_TEST_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")


@router.on(*ROUTED)
def describe(event: Any, ctx: Context) -> dict[str, Any] | None:
    """Answer what was received, or reply with an event when asked to."""
    if _mode(ctx) == "reply":
        ctx.reply(
            type="com.example.veba.replied",
            source="/veba-sdk/tests",
            subject=ctx.name,
            data={"inReplyTo": ctx.id, "name": ctx.name},
            extensions={"vebatest": "reply"},
        )
        return None
    return {
        "name": ctx.name,
        "category": ctx.category,
        "producer": ctx.producer,
        "id": ctx.id,
        "key": getattr(event, "key", None),
        "class": type(event).__name__,
        "sync_on_main_thread": threading.current_thread() is threading.main_thread(),
    }


@router.on(*ROUTED)
def fail_when_asked(event: Any, ctx: Context) -> None:
    """Raise when the event asks for a failure."""
    if _mode(ctx) == "fail":
        raise RuntimeError("asked to fail; this text must not reach the response")


@router.on(*ROUTED)
async def record(event: Any, ctx: Context) -> dict[str, Any] | None:
    """Runs after the failing handler: log the event id (proof the others still ran)."""
    if _mode(ctx) == "fail":
        _log(f"ran-after-failure {ctx.id}")
    if _mode(ctx) == "threads":  # and the garbage collector's setting the server runs with
        return {
            "async_on_main_thread": threading.current_thread() is threading.main_thread(),
            "gc_young_threshold": gc.get_threshold()[0],
        }
    return None


#: Knative under uvicorn: binary replies.
app = knative.asgi(router)
#: Knative under gunicorn: structured replies, a smaller limit.
wsgi_app = knative.wsgi(router, reply_mode="structured", max_body=256 * 1024)
