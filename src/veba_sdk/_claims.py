"""Claiming an event in the router's idempotency store before its handlers run, and settling
the claim after: called directly, or as dispatch steps (:mod:`veba_sdk._steps`) for a store's
async operations, which ``dispatch_async`` awaits."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ._context import logger
from ._errors import DuplicateInProgress
from ._result import DispatchResult
from ._steps import Failed, Step, outcome
from .idempotency import IdempotencyStore, idempotency_key

__all__ = ["claim", "claim_steps", "settle", "settle_steps"]


def claim(store: IdempotencyStore, result: DispatchResult) -> str | None:
    """Claim the event; the claim, or ``None`` when nothing is to run.

    ``None``: the event was handled already (``result.duplicate``), is being handled
    elsewhere (a :class:`DuplicateInProgress` in ``result.failed``), or the store could not be
    reached (its error in ``result.failed``).
    """
    key = idempotency_key(result.envelope)
    try:
        answer = store.begin(key)
    except Exception as exc:
        _unclaimed(result, exc)
        return None
    return _claimed(key, answer, result)


def claim_steps(
    store: Any, result: DispatchResult, returned: list[Any]
) -> Generator[Step, None, str | None]:
    """:func:`claim` with the store's ``begin_async``, as a step to await."""
    key = idempotency_key(result.envelope)
    yield store.begin_async, (key,), True
    answer = outcome(returned)
    if isinstance(answer, Failed):
        _unclaimed(result, answer.error)
        return None
    return _claimed(key, answer, result)


def settle(store: IdempotencyStore, key: str, result: DispatchResult) -> None:
    """Complete the claim, or abandon it when a handler failed (so a redelivery runs)."""
    try:
        if result.failed:
            store.abandon(key)
        else:
            store.complete(key)
    except Exception as exc:
        _settle_failed(store, key, result, exc)


def settle_steps(
    store: Any, key: str, result: DispatchResult, returned: list[Any]
) -> Generator[Step, None, None]:
    """:func:`settle` with the store's ``complete_async`` and ``abandon_async``, as a step."""
    yield (store.abandon_async if result.failed else store.complete_async), (key,), True
    answer = outcome(returned)
    if isinstance(answer, Failed):
        _settle_failed(store, key, result, answer.error)


def _claimed(key: str, answer: Any, result: DispatchResult) -> str | None:
    if answer == "new":
        return key
    if answer == "completed":
        result.duplicate = True
        result.matched = True
    else:
        result.failed.append(
            ("idempotency", DuplicateInProgress(f"event {key} is being handled already"))
        )
    return None


def _unclaimed(result: DispatchResult, exc: Exception) -> None:
    """The store could not claim: fail the delivery (it is retried), run nothing."""
    result.failed.append(("idempotency", exc))
    envelope = result.envelope
    logger.error(
        "idempotency store unavailable, event %s (id %s) not handled; the delivery fails "
        "for a retry: %s: %s",
        envelope.name,
        envelope.attributes.get("id"),
        type(exc).__name__,
        " ".join(str(exc).split()),
    )


def _settle_failed(store: Any, key: str, result: DispatchResult, exc: Exception) -> None:
    """Completing or abandoning failed: the claim stays until its in-progress expiry."""
    expiry = getattr(store, "in_progress_ttl", None)
    logger.error(
        "idempotency store could not %s %s (its claim frees itself after %ss): %s: %s",
        "abandon" if result.failed else "complete",
        key,
        "the in-progress expiry, " if expiry is None else expiry,
        type(exc).__name__,
        " ".join(str(exc).split()),
    )
