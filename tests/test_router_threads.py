"""The worker threads that run plain ``def`` handlers for ``Router.dispatch_async``."""

from __future__ import annotations

import asyncio
import contextvars
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from veba_sdk import Router
from veba_sdk._threads import (
    DEFAULT_HANDLER_THREADS,
    HandlerThreads,
    handler_threads,
    threads_from_env,
)
from veba_sdk.events import Envelope, from_cloudevent

REQUEST = contextvars.ContextVar("REQUEST", default="none")


def envelope(key: int = 1) -> Envelope:
    return from_cloudevent(
        {
            "specversion": "1.0",
            "id": str(key),
            "source": "https://vc01.local/sdk",
            "type": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0",
            "eventclass": "event",
        },
        {"Key": key, "ChainId": key, "CreatedTime": "2024-01-01T00:00:00Z"},
    )


def test_def_handler_runs_in_a_worker_thread_with_the_callers_context() -> None:
    router = Router()
    seen: dict[str, str] = {}

    @router.on("EnteredMaintenanceModeEvent")
    def handler(event: Any) -> str:
        seen["thread"] = threading.current_thread().name
        seen["request"] = REQUEST.get()
        return "done"

    async def main() -> Any:
        REQUEST.set("r-1")
        return await router.dispatch_async(envelope())

    result = asyncio.run(main())
    assert result.ok
    assert result.values == ["done"]
    assert seen["thread"].startswith("veba-handler-")
    assert seen["request"] == "r-1"


def test_a_failing_handler_is_reported_and_the_thread_lives_on() -> None:
    router = Router()
    calls: list[int] = []

    @router.on("EnteredMaintenanceModeEvent")
    def handler(event: Any) -> None:
        calls.append(event.key)
        if event.key == 1:
            raise ValueError("boom")

    async def main() -> list[Any]:
        return [await router.dispatch_async(envelope(k)) for k in (1, 2)]

    failed, ok = asyncio.run(main())
    assert [type(exc) for _, exc in failed.failed] == [ValueError]
    assert ok.ok
    assert calls == [1, 2]


def test_blocking_handlers_run_side_by_side() -> None:
    router = Router()
    barrier = threading.Barrier(3, timeout=10)

    @router.on("EnteredMaintenanceModeEvent")
    def handler(event: Any) -> None:
        barrier.wait()  # only passes when three handlers are blocked at once

    async def main() -> list[Any]:
        return await asyncio.gather(*(router.dispatch_async(envelope(k)) for k in (1, 2, 3)))

    results = asyncio.run(main())
    assert all(result.ok for result in results)


def test_idle_threads_are_reused_and_the_count_is_bounded() -> None:
    threads = HandlerThreads(max_workers=2)
    gate = threading.Event()

    def blocked() -> str:
        gate.wait(10)
        return threading.current_thread().name

    async def main() -> tuple[list[str], list[str]]:
        first = asyncio.gather(*(threads.run(blocked, ()) for _ in range(4)))
        await asyncio.sleep(0.05)
        gate.set()  # 4 calls, 2 threads: two of them wait in the queue
        names = await first
        again = [await threads.run(threading.current_thread, ()) for _ in range(5)]
        return names, [thread.name for thread in again]

    names, again = asyncio.run(main())
    assert len(set(names)) == 2
    assert set(again) <= set(names)
    assert threads._started == 2


def test_a_cancelled_caller_does_not_break_the_threads() -> None:
    threads = HandlerThreads(max_workers=1)
    gate = threading.Event()

    async def main() -> int:
        task = asyncio.ensure_future(threads.run(gate.wait, (10,)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()  # the handler finishes after its caller left
        return int(await threads.run(lambda x: x + 1, (41,)))

    assert asyncio.run(main()) == 42


def test_the_threads_are_shared_by_every_router() -> None:
    assert handler_threads() is handler_threads()
    assert handler_threads().max_workers == threads_from_env()


# -- how many threads (issue 18, item 7) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 40), ("", 40), ("64", 64), (" 8 ", 8), ("1", 1), ("4096", 4096)],
)
def test_the_count_comes_from_the_environment_or_is_40(value: str | None, expected: int) -> None:
    environ = {} if value is None else {"VEBA_HANDLER_THREADS": value}
    assert threads_from_env(environ) == expected
    assert DEFAULT_HANDLER_THREADS == 40  # anyio's limit, for I/O-bound handlers


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1.5", "99999", "\x00"])
def test_a_bad_environment_value_warns_and_keeps_the_default(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert threads_from_env({"VEBA_HANDLER_THREADS": value}) == DEFAULT_HANDLER_THREADS
    assert "VEBA_HANDLER_THREADS" in caplog.text


@pytest.mark.parametrize("value", [0, -1, 4097, 2.0, "8", True])
def test_a_bad_argument_is_refused_when_the_router_is_made(value: Any) -> None:
    with pytest.raises(ValueError, match="handler_threads must be a whole number"):
        Router(handler_threads=value)


def test_a_router_with_its_own_threads_runs_that_many_at_once() -> None:
    router = Router(handler_threads=3)
    lock = threading.Lock()
    running = [0, 0]  # now, most at once
    names: set[str] = set()

    @router.on("EnteredMaintenanceModeEvent")
    def handler(event: Any) -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
            names.add(threading.current_thread().name)
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    async def main() -> list[Any]:
        return await asyncio.gather(*(router.dispatch_async(envelope(k)) for k in range(12)))

    assert all(result.ok for result in asyncio.run(main()))
    assert running[1] == 3
    assert len(names) == 3
    assert router._threads is not handler_threads()


def test_the_environment_sizes_the_shared_threads_of_a_new_process() -> None:
    code = (
        "import asyncio, threading, time\n"
        "from veba_sdk import Router\n"
        "from veba_sdk._threads import handler_threads\n"
        "print(handler_threads().max_workers)\n"
    )
    env = dict(os.environ, VEBA_HANDLER_THREADS="7")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "7"
