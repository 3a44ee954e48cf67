"""The store contract: the protocol every idempotency store implements, and its error."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from .._errors import VebaError

__all__ = ["AsyncIdempotencyStore", "IdempotencyStore", "IdempotencyStoreError", "Outcome"]

#: What :meth:`IdempotencyStore.begin` answers: ``"new"`` (this caller handles the event),
#: ``"completed"`` (handled already: a duplicate) or ``"in_progress"`` (being handled elsewhere).
Outcome = Literal["new", "completed", "in_progress"]

IN_PROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"


class IdempotencyStoreError(VebaError):
    """The idempotency store could not be reached or answered nonsense.

    The router never handles an event it could not claim: the delivery fails (HTTP 500, or a
    raised :class:`~veba_sdk.HandlerError` on Lambda) so the broker delivers it again.
    """

    @classmethod
    def failed(cls, store: str, action: str, key: str, exc: Exception) -> IdempotencyStoreError:
        """``<store> failed to <action> <key>: <ExcType>: <reason>``, one line, the reason cut
        at 200 characters (a client error's text may span lines)."""
        reason = " ".join(str(exc).split())[:200]
        return cls(f"{store} failed to {action} {key}: {type(exc).__name__}: {reason}")


@runtime_checkable
class IdempotencyStore(Protocol):
    """Where the router remembers which events it already handled.

    Keys are what :func:`~veba_sdk.idempotency.idempotency_key` makes of an event. A store
    must make :meth:`begin` atomic: of concurrent callers with the same key, across threads,
    processes and machines sharing the store, exactly one gets ``"new"``. A claim that is
    never completed nor abandoned (its process was killed) must free itself after the store's
    in-progress expiry. Any method may raise (a store that is down): the router then fails the
    delivery so it is retried, and never runs the handlers of an unclaimed event.
    """

    def begin(self, key: str) -> Outcome:
        """Claim ``key``: ``"new"`` if this caller should handle it, else why not."""
        ...

    def complete(self, key: str) -> None:
        """Record that ``key`` was handled successfully."""
        ...

    def abandon(self, key: str) -> None:
        """Forget ``key`` after a failed handling, so a redelivery runs again."""
        ...


@runtime_checkable
class AsyncIdempotencyStore(IdempotencyStore, Protocol):
    """A store that also speaks asyncio: :meth:`Router.dispatch_async
    <veba_sdk.Router.dispatch_async>` awaits these instead of calling the blocking methods,
    so a network round trip never stalls the event loop."""

    async def begin_async(self, key: str) -> Outcome:
        """:meth:`begin`, awaitable."""
        ...

    async def complete_async(self, key: str) -> None:
        """:meth:`complete`, awaitable."""
        ...

    async def abandon_async(self, key: str) -> None:
        """:meth:`abandon`, awaitable."""
        ...
