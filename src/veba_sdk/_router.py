"""The :class:`Router`: routes from event names to handlers (:mod:`veba_sdk._table`), and
dispatch.

Dispatching an event is written once, as the generator :meth:`Router._steps`; :meth:`dispatch`
and :meth:`dispatch_async` only make the calls it yields (:mod:`veba_sdk._steps`).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Generator, Iterable
from typing import TYPE_CHECKING, Any

from ._claims import claim, claim_steps, settle, settle_steps
from ._context import Context, handler_context
from ._errors import DuplicateInProgress
from ._observe import DispatchObserver, Observers, Watch, observers_for
from ._result import DispatchResult, record_failure, record_value
from ._routes import Route
from ._steps import Failed, Step, choose
from ._table import RouteTable
from ._threads import HandlerThreads, check_count, handler_threads
from .events import Envelope, from_cloudevent
from .idempotency import IdempotencyStore, InMemoryIdempotencyStore, idempotency_key

if TYPE_CHECKING:
    import asyncio

# asyncio and inspect are imported where used: a Lambda cold start needs neither.

__all__ = [
    "DispatchResult",
    "DuplicateInProgress",
    "Route",
    "Router",
    "idempotency_key",
    "iter_routes",
]

# Whether dispatch notes the running handler in handler_context, for log records' correlation
# fields. Off until a JSON log formatter exists, so dispatch pays nothing for it otherwise.
_correlate = False
_UNRESOLVED = Observers(())  # a router's observers before its first event


class _ThreadLoop(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


class Router(RouteTable):
    """Routes events to handlers: vCenter events by name, class or type id, Horizon events by
    their Horizon type, any CloudEvent by its ``type`` (:meth:`on_type`).

    Args:
        idempotency: a store that makes redelivered events run once (see
            :mod:`veba_sdk.idempotency`: ``RedisIdempotencyStore`` or
            ``DynamoDBIdempotencyStore`` to share it between replicas); ``True`` for the
            in-memory default, ``None``/``False`` to run every delivery.
        sync_handlers_in_thread: in :meth:`dispatch_async`, run plain ``def`` handlers in a
            worker thread (the default) so their blocking I/O never stalls the event loop.
        handler_threads: how many such threads this router's handlers may use at once, in a
            pool of its own; ``None`` (the default) shares the process-wide pool of
            ``$VEBA_HANDLER_THREADS`` threads, 40 when unset. Handlers waiting on I/O for
            50 ms serve at most 20 events/s per thread.

    Registering routes and choosing them (:meth:`on`, :meth:`on_type`, :meth:`default`,
    :meth:`include`, :meth:`handlers_for`, ...) is :class:`veba_sdk._table.RouteTable`'s.

    Raises:
        ValueError: ``handler_threads`` is not a whole number from 1 to 4096.
    """

    def __init__(
        self,
        *,
        idempotency: IdempotencyStore | bool | None = None,
        sync_handlers_in_thread: bool = True,
        handler_threads: int | None = None,
    ) -> None:
        super().__init__()
        if idempotency is True:
            idempotency = InMemoryIdempotencyStore()
        # `is` checks: an empty store has len() 0 and would read as false.
        self.idempotency: IdempotencyStore | None = (
            None if idempotency is None or idempotency is False else idempotency
        )
        self.sync_handlers_in_thread = sync_handlers_in_thread
        # Threads start on demand, so a pool of its own costs nothing until a handler runs.
        self._threads = (
            None
            if handler_threads is None
            else HandlerThreads(check_count(handler_threads, "handler_threads"))
        )
        self._thread_loop = _ThreadLoop()
        self._added_observers: list[DispatchObserver] = []
        # Resolved on the first event (observers_for): None when nothing observes dispatch.
        self._observers: Observers | None = _UNRESOLVED

    def add_observer(self, observer: DispatchObserver) -> None:
        """Tell ``observer`` about every event this router dispatches from now on (see
        :class:`veba_sdk._observe.DispatchObserver`; the live viewer is one)."""
        with self._lock:
            self._added_observers.append(observer)
            self._observers = _UNRESOLVED

    # -- dispatch ------------------------------------------------------------------------

    def dispatch(self, event: Any, *, platform_context: Any = None) -> DispatchResult:
        """Run every matching handler for one event and report what happened.

        Sync handlers run directly; async handlers run on a private per-thread event loop.
        Call :meth:`dispatch_async` from async code instead.

        Args:
            event: an :class:`~veba_sdk.events.Envelope` or a ``cloudevents`` SDK event.
            platform_context: the platform's own context object, exposed as ``ctx.platform``.

        Raises:
            InvalidEvent: ``event`` is not a decodable vCenter event.
        """
        result = DispatchResult(event if isinstance(event, Envelope) else from_cloudevent(event))
        returned: list[Any] = []
        steps = self._steps(result, platform_context, returned, False)
        try:
            for call, args, awaited in steps:
                try:
                    value = self._run_coroutine(call(*args)) if awaited else call(*args)
                except Exception as exc:  # handed back: a failed handler stops no other
                    value = Failed(exc)
                if value is not None:
                    returned.append(value)
        except BaseException:  # interrupted: the step's observers and log fields end now
            steps.close()
            raise
        return result

    async def dispatch_async(self, event: Any, *, platform_context: Any = None) -> DispatchResult:
        """Like :meth:`dispatch`, from async code.

        ``async def`` handlers are awaited on the running loop; plain ``def`` handlers run in a
        worker thread (unless the router was made with ``sync_handlers_in_thread=False``), so a
        blocking call in them never stalls the server.
        """
        result = DispatchResult(event if isinstance(event, Envelope) else from_cloudevent(event))
        returned: list[Any] = []
        steps = self._steps(result, platform_context, returned, True)
        try:
            for call, args, awaited in steps:
                try:
                    if awaited:
                        value = await call(*args)
                    elif self.sync_handlers_in_thread:
                        value = await (self._threads or handler_threads()).run(call, args)
                    else:
                        value = call(*args)
                except Exception as exc:  # handed back: a failed handler stops no other
                    value = Failed(exc)
                if value is not None:
                    returned.append(value)
        except BaseException:  # cancelled: the step's observers and log fields end now
            steps.close()
            raise
        return result

    def _steps(
        self, result: DispatchResult, platform_context: Any, returned: list[Any], awaiting: bool
    ) -> Generator[Step, None, None]:
        """Dispatch one event, yielding each call to make (see :mod:`veba_sdk._steps`).

        The outcome of each call is in ``returned`` when the generator resumes; ``awaiting``:
        the driver awaits, so an idempotency store's async operations are used.
        """
        envelope = result.envelope
        observers = self._observers
        if observers is _UNRESOLVED:
            observers = self._observers = observers_for(self)
        key = (
            envelope.name,
            envelope.category,
            type(envelope.event).__name__,
            envelope.attributes["type"] if self._typed else "",
        )
        routes = self._cache.get(key) or self.handlers_for(*key)
        if routes and self._has_filters:
            routes = choose(routes, self._defaults, result)
        if routes:
            result.matched = True
        store = self.idempotency
        claimed = None
        if routes and store is not None:
            if awaiting and hasattr(store, "begin_async"):
                claimed = yield from claim_steps(store, result, returned)
            else:
                claimed = claim(store, result)
            if claimed is None:  # a duplicate, one in progress elsewhere, or no store
                routes = ()
        watch = None if observers is None else Watch(observers, envelope, platform_context)
        if not routes:
            if watch is not None:
                watch.finished(result)
            return
        # Told of each handler only when an observer overrides a handler hook.
        timed = None if observers is None or not observers.per_handler else watch
        # Made when a handler takes it or returns something: most do neither.
        ctx: Context | None = None
        for route in routes:
            if route.pass_context:
                if ctx is None:
                    ctx = Context(envelope, platform_context)
                args: tuple[Any, ...] = (envelope.data if route.raw else envelope.event, ctx)
            else:
                args = (envelope.data if route.raw else envelope.event,)
            # Set where the handler is called from: a worker thread runs in a copy of it.
            token = handler_context.set((envelope, route.name)) if _correlate else None
            if timed is not None:
                timed.handler_started(route, result)
            try:
                yield route.handler, args, route.is_async
                value = returned.pop() if returned else None  # steps.outcome, inlined
                if value is not None and value.__class__ is Failed:
                    record_failure(result, route, value.error)  # the others still run
                    continue
            finally:
                if timed is not None:
                    timed.handler_finished(route, result)
                if token is not None:
                    handler_context.reset(token)
            result.ran.append(route.name)
            if value is not None:
                if ctx is None:
                    ctx = Context(envelope, platform_context)
                record_value(result, ctx, value)
        if watch is not None:
            watch.finished(result)
        if ctx is not None and ctx.replies:
            result.replies = ctx.replies
        if claimed is None or store is None:
            return
        if awaiting and hasattr(store, "complete_async"):
            yield from settle_steps(store, claimed, result, returned)
        else:
            settle(store, claimed, result)

    def _run_coroutine(self, coroutine: Awaitable[Any]) -> Any:
        import asyncio
        import inspect

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            raise RuntimeError(
                "an async handler cannot run from dispatch() inside a running event loop; "
                "use 'await router.dispatch_async(...)'"
            )
        loop = self._thread_loop.loop
        if loop is None or loop.is_closed():
            loop = self._thread_loop.loop = asyncio.new_event_loop()
        return loop.run_until_complete(coroutine)

    def __repr__(self) -> str:
        return f"Router(routes={len(self._routes)}, defaults={len(self._defaults)})"


def correlate_records() -> None:
    """From now on, note the event and handler in ``handler_context`` while a handler runs
    (what :class:`veba_sdk.logging.JsonFormatter` reads for its correlation fields)."""
    global _correlate
    _correlate = True


def iter_routes(routers: Iterable[Router]) -> Iterable[Route]:
    """Every route of several routers, in order (used by manifests and the CLI)."""
    for router in routers:
        yield from router.routes
