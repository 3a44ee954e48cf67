"""A router's routes: registering them, and choosing the ones that select an event.

:class:`RouteTable` is the half of :class:`veba_sdk.Router` that knows routes (the other half,
:mod:`veba_sdk._router`, dispatches). Routes are compiled when registered (:mod:`veba_sdk._routes`
says what each pattern selects) and the routes for each event name are chosen once per name and
cached, so choosing handlers for an event is a dict lookup however many routes exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ._errors import RouteError
from ._routes import H, Pattern, Predicate, Route, both, classify, classify_type, subscribed_names
from .wire import MAX_NAME

__all__ = ["RouteTable"]

_MAX_CACHED_NAMES = 4096  # event names come from the wire: bound what we remember


class RouteTable:
    """Registered routes and default handlers, and the cached choice of them per event name."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._defaults: list[Route] = []
        self._cache: dict[tuple[str, str, str, str], tuple[Route, ...]] = {}
        self._has_filters = False  # lets dispatch skip the `where` pass entirely
        self._typed = False  # a type route exists: the CloudEvent type joins the cache key
        self._lock = threading.Lock()

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
        compiled = [classify(p, exact=exact, uncatalogued=uncatalogued) for p in patterns]
        return self._registrar(compiled, where, typed=False)

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
        return self._registrar([classify_type(p) for p in patterns], where, typed=True)

    def _registrar(
        self, compiled: list[tuple[str, str]], where: Predicate | None, *, typed: bool
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            if not callable(handler):
                raise RouteError(f"{handler!r} is not callable")
            with self._lock:
                for pattern, kind in compiled:
                    self._routes.append(Route(pattern, kind, handler, where, len(self._routes)))
                self._has_filters = self._has_filters or where is not None
                self._typed = self._typed or typed
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

    def include(self, other: RouteTable, *, prefix_where: Predicate | None = None) -> None:
        """Add every route of ``other`` (e.g. from another module) after this router's own.

        Args:
            other: the router to copy routes from.
            prefix_where: an extra filter applied to every included route.
        """
        with self._lock:
            for route in other._routes:
                where = route.where
                if prefix_where is not None:
                    where = both(prefix_where, route.where)
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
        return subscribed_names(self._routes, bool(self._defaults))

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
            routes = tuple(r for r in self._routes if r.matches(name, category, key[2], ce_type))
            if not routes:
                routes = tuple(self._defaults)
            if len(name) > MAX_NAME:  # decoded events never have one; a hand-made one may
                return routes
            with self._lock:
                if len(self._cache) >= _MAX_CACHED_NAMES:
                    self._cache.clear()
                self._cache[key] = routes
        return routes
