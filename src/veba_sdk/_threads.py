"""The worker threads that run plain ``def`` handlers from async dispatch.

Every request of the Knative app with a ``def`` handler makes this hop, so it is kept lean:
see :class:`HandlerThreads`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextvars import copy_context as _copy_context
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = ["HandlerThreads", "handler_threads"]


class HandlerThreads:
    """The worker threads that run plain ``def`` handlers for :meth:`Router.dispatch_async`.

    Does what ``asyncio.to_thread`` does (the caller's context variables included) with less
    machinery per call, because every request of the Knative app makes this hop: one queue,
    an asyncio future resolved with one ``call_soon_threadsafe``, no ``concurrent.futures``
    future to chain. Under load (``benchmarks/http_load``) that is ~25% more requests/s.
    Threads start on demand when none is idle, up to asyncio's default-executor size, and are
    daemon threads: a handler still running when the interpreter exits (only possible once
    the server gave up waiting for its request) does not hold the exit up.
    """

    def __init__(self, max_workers: int) -> None:
        import queue

        self.max_workers = max_workers
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards starting threads only
        self._started = 0
        # One token per idle thread. deque's append and pop are atomic, so the per-call
        # bookkeeping takes no lock on either side.
        self._idle: deque[None] = deque()

    def run(self, function: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Start ``function(*args)`` in a worker thread, from a running event loop.

        Returns a future to await: ``function``'s value, or its exception raised there.
        A plain function, not a coroutine: the caller awaits the future itself, one layer less
        on every request.
        """
        loop = (_get_running_loop or _load_asyncio())()
        future = loop.create_future()
        try:
            self._idle.pop()  # an idle thread will take it
        except IndexError:
            self._start_thread()
        self._queue.put((loop, future, _copy_context(), function, args))
        return future

    def _start_thread(self) -> None:
        """Start one more thread, unless ``max_workers`` run (the call then waits its turn)."""
        with self._lock:
            if self._started < self.max_workers:
                self._started += 1
                name = f"veba-handler-{self._started}"
                threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        get = self._queue.get
        idle = self._idle.append
        while True:
            loop, future, context, function, args = get()
            try:
                value = context.run(function, *args)
                ok = True
            except BaseException as exc:  # delivered to the awaiting task, as to_thread does
                value = exc
                ok = False
            try:  # noqa: SIM105 - not contextlib.suppress: no object made per event
                loop.call_soon_threadsafe(_resolve, future, ok, value)
            except RuntimeError:  # the loop is closed: nobody waits
                pass
            # An idle thread keeps no event alive.
            del loop, future, context, function, args, value
            idle(None)


# asyncio is imported on the first hop, not at import: a Lambda cold start never needs it.
_get_running_loop: Callable[[], asyncio.AbstractEventLoop] | None = None


def _load_asyncio() -> Callable[[], asyncio.AbstractEventLoop]:
    global _get_running_loop
    import asyncio

    _get_running_loop = asyncio.get_running_loop
    return _get_running_loop


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


_threads: list[HandlerThreads] = []
_threads_lock = threading.Lock()


def handler_threads() -> HandlerThreads:
    """The process's handler threads, shared by every router (created on first use)."""
    if _threads:
        return _threads[0]
    import os

    with _threads_lock:
        if not _threads:  # asyncio's default executor size
            _threads.append(HandlerThreads(min(32, (os.cpu_count() or 1) + 4)))
    return _threads[0]
