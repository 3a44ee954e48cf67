"""Routes from vCenter event names to handlers, and dispatch.

Routes are compiled when registered and the handlers for each event name are chosen once per
name and cached, so choosing handlers for an event is a dict lookup however many routes exist.

Route kinds:

* ``"VmPoweredOnEvent"``, ``VmPoweredOnEvent`` (a model class) or ``"class:VmPoweredOnEvent"``:
  the class and every subclass (vCenter sends ``DrsVmPoweredOnEvent`` in its place in DRS
  clusters); ``exact=True`` asks for that name only;
* ``"Vm*Event"``, ``"*"``: a glob on the event name;
* ``"com.vmware.vc.HA.*"``, ``"esx.problem.net.vmnic.linkstate.down"``: EventEx/ExtendedEvent
  type ids, exact or glob (a dot marks a type id: class names never have one);
* ``"horizon.VLSI_USERLOGGEDIN_REST"``, ``"horizon.*"``: Horizon events by their Horizon type;
* :meth:`Router.on_type` ``("com.example.*")``: any CloudEvent by its ``type``, the handler
  getting the raw data.

vCenter routes select vCenter events only, Horizon routes Horizon events only; type routes
select any event whose CloudEvent ``type`` matches.

Names, type ids and globs are checked against the catalogues when registered (a misspelling is
a :class:`RouteError` with suggestions); ``uncatalogued=True`` routes on a name no catalogued
vCenter release defines (a newer vCenter's id).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, TypeVar

from ._context import Context, Reply, handler_context
from ._errors import RouteError
from ._idempotency import IdempotencyStore, InMemoryIdempotencyStore
from ._observe import DispatchObserver, Watch, observers_for
from ._threads import HandlerThreads, check_count, handler_threads
from .events import Envelope, ancestors, event_class_names, from_cloudevent, is_event_class
from .events.type_ids import check_type_id_route, is_type_id
from .idempotency._keys import idempotency_key
from .wire import MAX_NAME

if TYPE_CHECKING:
    import asyncio

# asyncio, inspect and difflib are imported where used: a Lambda cold start needs none of them.

__all__ = [
    "DispatchResult",
    "DuplicateInProgress",
    "Route",
    "Router",
    "idempotency_key",
    "iter_routes",
]

Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)
Predicate = Callable[[Any], bool]
Pattern = str | type

_GLOB_CHARS = frozenset("*?[")
_TYPE_KINDS = frozenset({"type", "type-glob"})
_HORIZON_KINDS = frozenset({"horizon", "horizon-glob"})
HORIZON_PREFIX = "horizon."  # events._horizon.HORIZON_PREFIX, without importing the model
_HORIZON_TYPE = re.compile(r"[A-Z0-9_*?\[\]!-]+")
# Whether dispatch notes the running handler in handler_context, for log records' correlation
# fields. Off until a JSON log formatter exists, so dispatch pays nothing for it otherwise.
_correlate = False
_MAX_CACHED_NAMES = 4096  # event names come from the wire: bound what we remember


class DuplicateInProgress(Exception):
    """The same event is being handled right now by another delivery; retry later."""


class Route:
    """One registered route: a pattern, a handler and an optional ``where`` filter.

    Attributes:
        pattern: the name, glob or type id as given (a class is kept as its wire name).
        kind: ``"exact"``, ``"class"``, ``"glob"``, ``"typeid"``, ``"typeid-glob"``,
            ``"horizon"``, ``"horizon-glob"``, ``"type"``, ``"type-glob"``.
        handler: the user's function.
        where: an optional predicate on the typed event.
        order: registration order within the router tree.
    """

    __slots__ = (
        "handler",
        "is_async",
        "kind",
        "name",
        "order",
        "pass_context",
        "pattern",
        "raw",
        "where",
    )

    def __init__(
        self, pattern: str, kind: str, handler: Handler, where: Predicate | None, order: int
    ) -> None:
        self.pattern = pattern
        self.kind = kind
        self.handler = handler
        self.where = where
        self.order = order
        self.is_async = _is_async(handler)
        self.pass_context = _takes_context(handler)
        #: the handler takes the raw data (a type route), not the typed event
        self.raw = kind in _TYPE_KINDS
        #: the handler's qualified name, as reported in :class:`DispatchResult`
        self.name: str = getattr(handler, "__qualname__", None) or repr(handler)

    def matches(self, name: str, category: str, class_name: str, ce_type: str = "") -> bool:
        """Whether this route selects an event (before the ``where`` filter).

        ``ce_type`` is the CloudEvent ``type``, which type routes match (for a
        ``"cloudevent"``, its name is its type).
        """
        kind = self.kind
        if kind in _TYPE_KINDS:
            ce_type = ce_type or (name if category == "cloudevent" else "")
            if kind == "type":
                return ce_type == self.pattern
            return fnmatchcase(ce_type, self.pattern)
        if category == "horizon":
            if kind == "horizon":
                return name == self.pattern
            return kind == "horizon-glob" and fnmatchcase(name, self.pattern)
        if category == "cloudevent" or kind in _HORIZON_KINDS:
            return False
        if kind == "exact" or kind == "typeid":
            return name == self.pattern
        if kind == "class":
            try:
                return self.pattern in ancestors(class_name)
            except KeyError:
                return self.pattern == "Event"
        return fnmatchcase(name, self.pattern)

    def __repr__(self) -> str:
        where = ", where=..." if self.where else ""
        return f"Route({self.pattern!r}, kind={self.kind!r}, handler={self.name}{where})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Route):
            return NotImplemented
        return (self.pattern, self.kind, self.handler, self.where) == (
            other.pattern,
            other.kind,
            other.handler,
            other.where,
        )

    __hash__ = None  # type: ignore[assignment]


class DispatchResult:
    """What happened to one event.

    Attributes:
        envelope: the event.
        ran: qualified names of the handlers that completed.
        failed: ``(handler name, exception)`` for each handler that raised.
        replies: reply events emitted (``ctx.reply`` or a returned CloudEvent).
        values: other non-``None`` values handlers returned (dicts become response bodies).
        matched: whether any route (or a default handler) selected the event.
        duplicate: the event was already handled (idempotency store): nothing ran.
    """

    __slots__ = ("duplicate", "envelope", "failed", "matched", "ran", "replies", "values")

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope
        self.ran: list[str] = []
        self.failed: list[tuple[str, BaseException]] = []
        # Empty tuples until something arrives: most events produce neither.
        self.replies: Sequence[Reply] = ()
        self.values: Sequence[Any] = ()
        self.matched = False
        self.duplicate = False

    @property
    def ok(self) -> bool:
        """No handler failed: the platform should acknowledge the event."""
        return not self.failed

    def raise_for_failure(self) -> None:
        """Raise :class:`veba_sdk.HandlerError` when a handler failed (Lambda re-raises)."""
        if self.failed:
            from ._errors import HandlerError

            names = ", ".join(name for name, _ in self.failed)
            raise HandlerError(
                f"{len(self.failed)} handler(s) failed for event {self.envelope.name} "
                f"(id {self.envelope.attributes.get('id')}): {names}",
                [exc for _, exc in self.failed],
            )

    def __repr__(self) -> str:
        return (
            f"DispatchResult(name={self.envelope.name!r}, ran={self.ran!r}, "
            f"failed={[n for n, _ in self.failed]!r}, matched={self.matched}, "
            f"duplicate={self.duplicate})"
        )


def _is_async(handler: Handler) -> bool:
    import functools
    import inspect

    target = handler
    while isinstance(target, functools.partial):
        target = target.func
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    )


def _takes_context(handler: Handler) -> bool:
    """Handlers take ``(event)`` or ``(event, ctx)``; decide once, at registration."""
    import inspect

    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return True
    positional = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            positional += 1
    if positional == 0:
        raise RouteError(f"handler {handler!r} must take (event) or (event, ctx)")
    return positional >= 2


def _suggest(name: str) -> str:
    import difflib

    names = event_class_names()
    candidates = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not candidates and is_event_class(name + "Event"):
        candidates = [name + "Event"]
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered and lowered[name.lower()] not in candidates:
        candidates.insert(0, lowered[name.lower()])
    if candidates:
        return "; did you mean " + " or ".join(repr(c) for c in candidates) + "?"
    return ""


def _classify(
    pattern: Pattern, *, exact: bool = False, uncatalogued: bool = False
) -> tuple[str, str]:
    """``(pattern, kind)`` for a user's route, or :class:`RouteError`."""
    class_kind = "exact" if exact else "class"
    if isinstance(pattern, type):
        name = pattern.__name__
        if not is_event_class(name):
            raise RouteError(f"{pattern!r} is not a vCenter event class")
        return name, class_kind
    if not isinstance(pattern, str) or not pattern:
        raise RouteError(f"a route is an event name, glob, type id or class, not {pattern!r}")
    if pattern.startswith("class:"):
        name = pattern[len("class:") :]
        if not is_event_class(name):
            raise RouteError(f"{name!r} is not a vCenter event class{_suggest(name)}")
        return name, class_kind
    is_glob = not _GLOB_CHARS.isdisjoint(pattern)
    if pattern.startswith(HORIZON_PREFIX):
        return _horizon_route(pattern, is_glob)
    if "." in pattern:
        if not uncatalogued:
            check_type_id_route(pattern, is_glob)
        return pattern, "typeid-glob" if is_glob else "typeid"
    if is_glob:
        if not uncatalogued and not any(fnmatchcase(n, pattern) for n in event_class_names()):
            raise RouteError(f"glob {pattern!r} matches no vCenter event class")
        return pattern, "glob"
    if is_event_class(pattern):
        return pattern, class_kind
    if uncatalogued:
        return pattern, "exact"
    if is_type_id(pattern):  # the few dotless ExtendedEvent ids ("53001")
        return pattern, "typeid"
    raise RouteError(
        f"{pattern!r} is not a vCenter event class{_suggest(pattern)}"
        " (a name no catalogued vCenter release defines: on(..., uncatalogued=True))"
    )


def _horizon_route(pattern: str, is_glob: bool) -> tuple[str, str]:
    """A Horizon route, its type upper-cased as Horizon spells types (the CloudEvent types
    carry them lower-cased)."""
    event_type = pattern[len(HORIZON_PREFIX) :].upper()
    if not _HORIZON_TYPE.fullmatch(event_type):
        raise RouteError(
            f"{pattern!r} is no Horizon event route: 'horizon.' and a Horizon event type "
            "(letters, digits and underscores, e.g. 'horizon.VLSI_USERLOGGEDIN_REST'), or a glob"
        )
    return HORIZON_PREFIX + event_type, "horizon-glob" if is_glob else "horizon"


class _ThreadLoop(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


class Router:
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
        self._routes: list[Route] = []
        self._defaults: list[Route] = []
        self._cache: dict[tuple[str, str, str, str], tuple[Route, ...]] = {}
        self._has_filters = False  # lets dispatch skip the `where` pass entirely
        self._typed = False  # a type route exists: the CloudEvent type joins the cache key
        self._lock = threading.Lock()
        self._thread_loop = _ThreadLoop()
        self._added_observers: list[DispatchObserver] = []
        # Resolved on the first event (observers_for): () when nothing observes dispatch.
        self._observers: tuple[DispatchObserver, ...] | None = None

    # -- registration --------------------------------------------------------------------

    def on(
        self,
        *patterns: Pattern,
        where: Predicate | None = None,
        exact: bool = False,
        uncatalogued: bool = False,
    ) -> Callable[[H], H]:
        """Register the decorated function for events matching any of ``patterns``.

        Decorators stack: ``@router.on("EnteredMaintenanceModeEvent")`` over
        ``@router.on("ExitMaintenanceModeEvent")`` runs one handler for both.

        Args:
            patterns: class names or model classes (the class and its subclasses), globs on
                the event name, EventEx/ExtendedEvent type ids or globs of them.
            where: a filter on the typed event; the handler runs when it returns true.
            exact: a class name selects events of exactly that name, not its subclasses
                (``"VmPoweredOnEvent"`` then misses the ``DrsVmPoweredOnEvent`` of DRS clusters).
            uncatalogued: accept names no catalogued vCenter release defines (an EventEx id
                of a newer vCenter, your own ``EventEx`` ids) instead of refusing them.

        Raises:
            RouteError: a name that is no vCenter class, glob or type id (with suggestions).
        """
        if not patterns:
            raise RouteError("on() needs at least one event name, glob, type id or class")
        compiled = [_classify(p, exact=exact, uncatalogued=uncatalogued) for p in patterns]

        def register(handler: H) -> H:
            if not callable(handler):
                raise RouteError(f"{handler!r} is not callable")
            with self._lock:
                for pattern, kind in compiled:
                    self._routes.append(Route(pattern, kind, handler, where, len(self._routes)))
                self._has_filters = self._has_filters or where is not None
                self._cache.clear()
            return handler

        return register

    def on_type(self, *patterns: str, where: Predicate | None = None) -> Callable[[H], H]:
        """Register the decorated function for any CloudEvent whose ``type`` matches.

        For events that are not vCenter's or Horizon's (VEBA's webhook provider forwards any
        CloudEvent), and for any event by its exact CloudEvent type. The handler gets the raw
        data as ``event`` (the decoded JSON value, text, bytes or ``None``); ``ctx`` has the
        attributes::

            @router.on_type("com.example.build.*")
            def build(event, ctx): ...

        Args:
            patterns: CloudEvent types or globs of them (case-sensitive).
            where: a filter on the raw data.

        Raises:
            RouteError: an empty or non-text pattern.
        """
        if not patterns:
            raise RouteError("on_type() needs at least one CloudEvent type or glob")
        compiled = []
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                raise RouteError(f"a type route is a CloudEvent type or glob, not {pattern!r}")
            compiled.append((pattern, "type" if _GLOB_CHARS.isdisjoint(pattern) else "type-glob"))

        def register(handler: H) -> H:
            if not callable(handler):
                raise RouteError(f"{handler!r} is not callable")
            with self._lock:
                for pattern, kind in compiled:
                    self._routes.append(Route(pattern, kind, handler, where, len(self._routes)))
                self._has_filters = self._has_filters or where is not None
                self._typed = True
                self._cache.clear()
            return handler

        return register

    def default(self, handler: H) -> H:
        """Register a handler for events no other route selected (any kind of event: check
        ``ctx.category`` when a default may see Horizon events or other CloudEvents)."""
        with self._lock:
            self._defaults.append(Route("*", "default", handler, None, len(self._defaults)))
            self._cache.clear()
        return handler

    def include(self, other: Router, *, prefix_where: Predicate | None = None) -> None:
        """Add every route of ``other`` (e.g. from another module) after this router's own.

        Args:
            other: the router to copy routes from.
            prefix_where: an extra filter applied to every included route.
        """
        with self._lock:
            for route in other._routes:
                where = route.where
                if prefix_where is not None:
                    where = _both(prefix_where, route.where)
                self._routes.append(
                    Route(route.pattern, route.kind, route.handler, where, len(self._routes))
                )
                self._has_filters = self._has_filters or where is not None
            self._typed = self._typed or other._typed
            for route in other._defaults:
                self._defaults.append(
                    Route("*", "default", route.handler, prefix_where, len(self._defaults))
                )
                self._has_filters = self._has_filters or prefix_where is not None
            self._cache.clear()

    def add_observer(self, observer: DispatchObserver) -> None:
        """Tell ``observer`` about every event this router dispatches from now on (see
        :class:`veba_sdk._observe.DispatchObserver`; the live viewer is one)."""
        with self._lock:
            self._added_observers.append(observer)
            self._observers = None

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every registered route, in registration order (defaults excluded)."""
        return tuple(self._routes)

    @property
    def defaults(self) -> tuple[Route, ...]:
        """The handlers registered with :meth:`default`."""
        return tuple(self._defaults)

    def subscribed_names(self) -> tuple[list[str], list[str], bool]:
        """What the routes subscribe to, for manifests.

        Returns:
            ``(class names, type-id patterns, everything)``: the concrete class names that
            exact, class and glob routes expand to; EventEx/ExtendedEvent type ids and globs as
            given; and whether a catch-all (``"*"`` or a default handler) makes filters moot.
            Horizon and type routes are not in it (:func:`veba_sdk.manifests.selectors_for`
            adds them, :func:`veba_sdk.manifests.unsubscribed_routes` says where they cannot
            be subscribed).
        """
        names: set[str] = set()
        type_ids: list[str] = []
        everything = bool(self._defaults)
        all_names = event_class_names()
        for route in self._routes:
            if route.kind == "exact":
                names.add(route.pattern)
            elif route.kind == "class":
                names.update(n for n in all_names if route.pattern in ancestors(n))
            elif route.kind == "glob":
                if route.pattern == "*":
                    everything = True
                names.update(n for n in all_names if fnmatchcase(n, route.pattern))
            elif route.kind in ("typeid", "typeid-glob") and route.pattern not in type_ids:
                type_ids.append(route.pattern)
        return sorted(names), type_ids, everything

    # -- matching ------------------------------------------------------------------------

    def handlers_for(
        self, name: str, category: str = "event", class_name: str = "", ce_type: str = ""
    ) -> tuple[Route, ...]:
        """The routes selecting an event, in registration order (defaults if none).

        ``ce_type`` (the CloudEvent ``type``) matters to type routes only. The answer is
        computed once per ``(name, category, class, type)`` and cached.
        """
        key = (name, category, class_name or name, ce_type)
        routes = self._cache.get(key)
        if routes is None:
            routes = tuple(
                r for r in self._routes if r.matches(name, category, key[2], ce_type)
            )
            if not routes:
                routes = tuple(self._defaults)
            if len(name) > MAX_NAME:  # decoded events never have one; a hand-made one may
                return routes
            with self._lock:
                if len(self._cache) >= _MAX_CACHED_NAMES:
                    self._cache.clear()
                self._cache[key] = routes
        return routes

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
        observers = self._observers
        if observers is None:
            observers = self._observers = observers_for(self)
        plan = self._plan(event)
        if isinstance(plan, DispatchResult):
            if observers:
                Watch(observers, plan.envelope, platform_context).finished(plan)
            return plan
        envelope, result, chosen, claim = plan
        watch = Watch(observers, envelope, platform_context) if observers else None
        # Made when a handler takes it or returns something: most do neither.
        ctx: Context | None = None
        for route in chosen:
            if route.pass_context:
                if ctx is None:
                    ctx = Context(envelope, platform_context)
                args: tuple[Any, ...] = (envelope.data if route.raw else envelope.event, ctx)
            else:
                args = (envelope.data if route.raw else envelope.event,)
            token = handler_context.set((envelope, route.name)) if _correlate else None
            if watch is not None:
                watch.handler_started(route, result)
            try:
                if route.is_async:
                    value = self._run_coroutine(route.handler(*args))
                else:
                    value = route.handler(*args)
            except Exception as exc:  # a handler's failure must not stop the others
                _record_failure(result, route, exc, envelope)
                continue
            finally:
                if watch is not None:
                    watch.handler_finished(route, result)
                if token is not None:
                    handler_context.reset(token)
            result.ran.append(route.name)
            if value is not None:
                if ctx is None:
                    ctx = Context(envelope, platform_context)
                _record_value(result, ctx, value)
        if watch is not None:
            watch.finished(result)
        replies = None if ctx is None else ctx.replies
        if claim is None and replies is None:
            return result  # nothing for _settle to do
        self._settle(claim, result, replies)
        return result

    async def dispatch_async(self, event: Any, *, platform_context: Any = None) -> DispatchResult:
        """Like :meth:`dispatch`, from async code.

        ``async def`` handlers are awaited on the running loop; plain ``def`` handlers run in a
        worker thread (unless the router was made with ``sync_handlers_in_thread=False``), so a
        blocking call in them never stalls the server.
        """
        observers = self._observers
        if observers is None:
            observers = self._observers = observers_for(self)
        plan = await self._plan_async(event)
        if isinstance(plan, DispatchResult):
            if observers:
                Watch(observers, plan.envelope, platform_context).finished(plan)
            return plan
        envelope, result, chosen, claim = plan
        watch = Watch(observers, envelope, platform_context) if observers else None
        # Made when a handler takes it or returns something: most do neither.
        ctx: Context | None = None
        for route in chosen:
            if route.pass_context:
                if ctx is None:
                    ctx = Context(envelope, platform_context)
                args: tuple[Any, ...] = (envelope.data if route.raw else envelope.event, ctx)
            else:
                args = (envelope.data if route.raw else envelope.event,)
            # Set on the loop: the worker thread runs in a copy of this context.
            token = handler_context.set((envelope, route.name)) if _correlate else None
            if watch is not None:
                watch.handler_started(route, result)
            try:
                if route.is_async:
                    value = await route.handler(*args)
                elif self.sync_handlers_in_thread:
                    value = await (self._threads or handler_threads()).run(route.handler, args)
                else:
                    value = route.handler(*args)
            except Exception as exc:  # a handler's failure must not stop the others
                _record_failure(result, route, exc, envelope)
                continue
            finally:
                if watch is not None:
                    watch.handler_finished(route, result)
                if token is not None:
                    handler_context.reset(token)
            result.ran.append(route.name)
            if value is not None:
                if ctx is None:
                    ctx = Context(envelope, platform_context)
                _record_value(result, ctx, value)
        if watch is not None:
            watch.finished(result)
        replies = None if ctx is None else ctx.replies
        if claim is None and replies is None:
            return result  # nothing for _settle to do
        await self._settle_async(claim, result, replies)
        return result

    def _plan(
        self, event: Any, *, claim_now: bool = True
    ) -> DispatchResult | tuple[Envelope, DispatchResult, tuple[Route, ...], str | None]:
        """What both dispatch paths do before calling handlers.

        Returns the finished result when nothing is to run (no match, a duplicate, a claim
        refused), else ``(envelope, result, routes to run, idempotency claim)``; with
        ``claim_now=False`` the caller claims (awaiting the store).
        """
        if event.__class__ is Envelope and self.idempotency is None and not self._has_filters:
            # The usual event, on the hot path: cached routes, no filters, no store to claim in.
            result = DispatchResult(event)
            routes = self.handlers_for(
                event.name,
                event.category,
                type(event.event).__name__,
                event.attributes["type"] if self._typed else "",
            )
            if not routes:
                return result
            result.matched = True
            return event, result, routes, None
        envelope = event if isinstance(event, Envelope) else from_cloudevent(event)
        result = DispatchResult(envelope)
        chosen = self._choose(envelope, result)
        if not chosen:
            return result
        claim = None
        if claim_now and self.idempotency is not None:
            claim = _claim(self.idempotency, envelope, result)
            if claim is None:  # a duplicate, or one in progress elsewhere
                return result
        return envelope, result, chosen, claim

    async def _plan_async(
        self, event: Any
    ) -> DispatchResult | tuple[Envelope, DispatchResult, tuple[Route, ...], str | None]:
        """:meth:`_plan` for :meth:`dispatch_async`: a store with ``begin_async`` is awaited."""
        store = self.idempotency
        if store is None or not hasattr(store, "begin_async"):
            return self._plan(event)
        plan = self._plan(event, claim_now=False)
        if isinstance(plan, DispatchResult):
            return plan
        envelope, result, chosen, _ = plan
        claim = await _claim_async(store, envelope, result)
        if claim is None:  # a duplicate, or one in progress elsewhere
            return result
        return envelope, result, chosen, claim

    def _choose(self, envelope: Envelope, result: DispatchResult) -> tuple[Route, ...]:
        """The routes to run: matching ones whose ``where`` accepts the event, else defaults."""
        event = envelope.event
        routes = self.handlers_for(
            envelope.name,
            envelope.category,
            type(event).__name__,
            envelope.attributes["type"] if self._typed else "",
        )
        if not routes or not self._has_filters:
            result.matched = bool(routes)
            return routes
        chosen: list[Route] = []
        for route in routes:
            if route.where is None:
                chosen.append(route)
                continue
            try:
                accepted = route.where(envelope.data if route.raw else event)
            except Exception as exc:  # a broken filter fails its route, not the others
                _record_failure(result, route, exc, envelope)
                continue
            if accepted:
                chosen.append(route)
        if not chosen and not result.failed and routes[0].kind != "default":
            chosen = list(self._defaults)
        result.matched = bool(chosen)
        return tuple(chosen)

    def _settle(
        self, claim: str | None, result: DispatchResult, replies: list[Reply] | None
    ) -> None:
        if replies:
            result.replies = replies
        store = self.idempotency
        if claim is None or store is None:
            return
        try:
            if result.failed:
                store.abandon(claim)
            else:
                store.complete(claim)
        except Exception as exc:
            _settle_failed(store, claim, result, exc)

    async def _settle_async(
        self, claim: str | None, result: DispatchResult, replies: list[Reply] | None
    ) -> None:
        store: Any = self.idempotency
        if claim is None or store is None or not hasattr(store, "complete_async"):
            self._settle(claim, result, replies)
            return
        if replies:
            result.replies = replies
        try:
            if result.failed:
                await store.abandon_async(claim)
            else:
                await store.complete_async(claim)
        except Exception as exc:
            _settle_failed(store, claim, result, exc)

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


def _claim(store: IdempotencyStore, envelope: Envelope, result: DispatchResult) -> str | None:
    """Claim the event in the idempotency store; ``None`` when it is taken or unreachable."""
    key = idempotency_key(envelope)
    try:
        outcome = store.begin(key)
    except Exception as exc:
        _unclaimed(envelope, result, exc)
        return None
    return _claimed(key, outcome, result)


async def _claim_async(store: Any, envelope: Envelope, result: DispatchResult) -> str | None:
    """:func:`_claim` with the store's ``begin_async``."""
    key = idempotency_key(envelope)
    try:
        outcome = await store.begin_async(key)
    except Exception as exc:
        _unclaimed(envelope, result, exc)
        return None
    return _claimed(key, outcome, result)


def _claimed(key: str, outcome: str, result: DispatchResult) -> str | None:
    if outcome == "new":
        return key
    if outcome == "completed":
        result.duplicate = True
        result.matched = True
    else:
        result.failed.append(
            ("idempotency", DuplicateInProgress(f"event {key} is being handled already"))
        )
    return None


def _unclaimed(envelope: Envelope, result: DispatchResult, exc: Exception) -> None:
    """The store could not claim: fail the delivery (it is retried), run nothing."""
    result.failed.append(("idempotency", exc))
    from ._context import logger

    logger.error(
        "idempotency store unavailable, event %s (id %s) not handled; the delivery fails "
        "for a retry: %s: %s",
        envelope.name,
        envelope.attributes.get("id"),
        type(exc).__name__,
        " ".join(str(exc).split()),
    )


def _settle_failed(store: Any, claim: str, result: DispatchResult, exc: Exception) -> None:
    """Completing or abandoning failed: the claim stays until its in-progress expiry."""
    from ._context import logger

    expiry = getattr(store, "in_progress_ttl", None)
    logger.error(
        "idempotency store could not %s %s (its claim frees itself after %ss): %s: %s",
        "abandon" if result.failed else "complete",
        claim,
        "the in-progress expiry, " if expiry is None else expiry,
        type(exc).__name__,
        " ".join(str(exc).split()),
    )


def _both(first: Predicate, second: Predicate | None) -> Predicate:
    if second is None:
        return first
    return lambda event: first(event) and second(event)


def _record_failure(
    result: DispatchResult, route: Route, exc: Exception, envelope: Envelope
) -> None:
    result.failed.append((route.name, exc))
    from ._context import logger
    from .logging import one_line

    # The name, the id and the exception's text can carry wire bytes: escaped, so a record
    # stays one line under any logging configuration (issue 18, item 4).
    logger.error(
        "handler %s failed for event %s (id %s): %s: %s",
        route.name,
        one_line(envelope.name),
        one_line(str(envelope.attributes.get("id"))),
        type(exc).__name__,
        one_line(str(exc)),
        exc_info=exc,
    )


def _record_value(result: DispatchResult, ctx: Context, value: Any) -> None:
    # Returned replies join ctx.reply() ones so they keep the order handlers produced them.
    if isinstance(value, Reply):
        ctx.add_reply(value)
    elif callable(getattr(value, "get_attributes", None)):
        ctx.add_reply(Reply.from_cloudevent(value))
    elif isinstance(result.values, list):
        result.values.append(value)
    else:
        result.values = [value]


def iter_routes(routers: Iterable[Router]) -> Iterable[Route]:
    """Every route of several routers, in order (used by manifests and the CLI)."""
    for router in routers:
        yield from router.routes

