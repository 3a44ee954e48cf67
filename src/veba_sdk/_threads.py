"""The worker threads that run plain ``def`` handlers from async dispatch.

Every request of the Knative app with a ``def`` handler makes this hop, so it is kept lean:
see :class:`HandlerThreads`.

How many: handlers mostly wait on I/O (a vROps call, a webhook), so the number of threads, not
the CPU count, is what bounds events per second: at 50 ms a call, each thread serves 20 events/s.
The default is :data:`DEFAULT_HANDLER_THREADS` (40, what Starlette and anyio allow for their
sync endpoints), set from outside with ``VEBA_HANDLER_THREADS``, or per router with
``Router(handler_threads=...)``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from contextvars import copy_context as _copy_context
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "DEFAULT_HANDLER_THREADS",
    "ENVIRONMENT_VARIABLE",
    "MAX_HANDLER_THREADS",
    "HandlerThreads",
    "check_count",
    "handler_threads",
    "threads_from_env",
]

#: Threads for ``def`` handlers when nothing else is said: anyio's default thread limit.
DEFAULT_HANDLER_THREADS = 40
#: The environment variable that sets the process-wide number of handler threads.
ENVIRONMENT_VARIABLE = "VEBA_HANDLER_THREADS"
#: Upper bound of what the variable or an argument may ask for (each thread has a stack).
MAX_HANDLER_THREADS = 4096


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

        self.max_workers = check_count(max_workers, "max_workers")
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


def check_count(value: object, what: str) -> int:
    """``value`` as a number of threads, or :class:`ValueError` saying what is wrong."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_HANDLER_THREADS
    ):
        raise ValueError(
            f"{what} must be a whole number from 1 to {MAX_HANDLER_THREADS}, not {value!r}"
        )
    return value


def threads_from_env(environ: Mapping[str, str] | None = None) -> int:
    """The number of handler threads ``VEBA_HANDLER_THREADS`` asks for, else the default.

    A value that is no whole number in range is logged as a warning and the default used:
    this is read on the first event, where raising would fail the event, not the deployment.
    """
    import os

    text = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE)
    if text is None or not text.strip():
        return DEFAULT_HANDLER_THREADS
    try:
        return check_count(int(text.strip()), ENVIRONMENT_VARIABLE)
    except ValueError:
        import logging

        logging.getLogger("veba_sdk").warning(
            "%s=%r is not a whole number from 1 to %d; using %d handler threads",
            ENVIRONMENT_VARIABLE,
            text[:40],
            MAX_HANDLER_THREADS,
            DEFAULT_HANDLER_THREADS,
        )
        return DEFAULT_HANDLER_THREADS


def handler_threads() -> HandlerThreads:
    """The process's handler threads, shared by every router without its own
    (created on first use, sized by :func:`threads_from_env`)."""
    if _threads:
        return _threads[0]
    with _threads_lock:
        if not _threads:
            _threads.append(HandlerThreads(threads_from_env()))
    return _threads[0]
