"""What happened to one dispatched event: :class:`DispatchResult`, and how handlers' outcomes
are recorded in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._context import Context, Reply
from ._errors import HandlerError

if TYPE_CHECKING:
    from ._routes import Route
    from .events import Envelope

__all__ = ["DispatchResult", "record_failure", "record_value"]


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


def record_failure(result: DispatchResult, route: Route, exc: Exception) -> None:
    """A handler (or its ``where`` filter) raised: note it in ``result`` and log it."""
    result.failed.append((route.name, exc))
    from ._context import logger
    from .logging import one_line

    envelope = result.envelope
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


def record_value(result: DispatchResult, ctx: Context, value: Any) -> None:
    """A handler returned ``value`` (not ``None``): a reply, or a value for the response."""
    # Returned replies join ctx.reply() ones so they keep the order handlers produced them.
    if isinstance(value, Reply):
        ctx.add_reply(value)
    elif callable(getattr(value, "get_attributes", None)):
        ctx.add_reply(Reply.from_cloudevent(value))
    elif isinstance(result.values, list):
        result.values.append(value)
    else:
        result.values = [value]
