"""The steps of dispatching one event, shared by :meth:`Router.dispatch` and
:meth:`Router.dispatch_async`.

``Router._steps`` (a generator) does everything dispatching an event involves: choosing the
routes, claiming the event in the idempotency store, telling the observers, recording what each
handler did, settling the claim. Each call it cannot make itself (a handler, an idempotency
store's async operation) it yields as a :data:`Step`, and the two dispatch methods only make
those calls: ``dispatch`` calls them (an async handler on its private event loop),
``dispatch_async`` awaits them (a ``def`` handler in a worker thread). A driver hands a call's
outcome back by appending it to the ``returned`` list the generator was given: the value when it
is not ``None``, a :class:`Failed` when the call raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._result import DispatchResult, record_failure

if TYPE_CHECKING:
    from ._routes import Route

__all__ = ["Failed", "Step", "choose", "outcome"]

#: ``(function, arguments, is a coroutine function)``: a coroutine function's call is awaited
#: (``dispatch`` runs it on its own event loop); any other function is a ``def`` handler, which
#: ``dispatch`` calls and ``dispatch_async`` sends to a worker thread.
Step = tuple[Callable[..., Any], tuple[Any, ...], bool]


class Failed:
    """What a driver hands back for a call that raised ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def outcome(returned: list[Any]) -> Any:
    """The outcome of the step just made: its value (``None`` included) or a :class:`Failed`."""
    return returned.pop() if returned else None


def choose(
    routes: tuple[Route, ...], defaults: Sequence[Route], result: DispatchResult
) -> tuple[Route, ...]:
    """The routes to run among those matching an event: the ones whose ``where`` accepts it,
    else the defaults (a filter that raises fails its route, not the others)."""
    envelope = result.envelope
    chosen: list[Route] = []
    for route in routes:
        if route.where is None:
            chosen.append(route)
            continue
        try:
            accepted = route.where(envelope.data if route.raw else envelope.event)
        except Exception as exc:  # a broken filter fails its route, not the others
            record_failure(result, route, exc)
            continue
        if accepted:
            chosen.append(route)
    if not chosen and not result.failed and routes[0].kind != "default":
        chosen = list(defaults)
    return tuple(chosen)
