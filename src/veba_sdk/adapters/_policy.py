"""The HTTP status policy, in one place, for every adapter that answers HTTP requests.

=======================================================  =======================================
request                                                  answer
=======================================================  =======================================
``GET``/``HEAD`` on ``/health/liveness``, ``/readiness``  200 ``OK`` (readiness 503 when stopping)
``GET``/``HEAD`` on ``/metrics`` (with ``metrics=``)       200 with the samples (after ``auth``)
a sender ``auth`` refuses                                401/403 (503: issuer keys unreachable)
any other method than ``POST``                           405 with ``Allow``
body over the limit (1 MiB by default)                   413
a batch of more than 100 events                          413
empty, not a CloudEvent, bad JSON/XML, wrong type        400 with a one-line ``text/plain`` reason
the router raised (an idempotency store is down)         500 naming the event and id
a handler raised (others of the event still ran)         500 naming the handlers and the event id
handlers ran, one replied                                200 with the reply CloudEvent
handlers ran, returned dicts                             200 with a JSON body
handlers ran (or none matched)                           204
=======================================================  =======================================

Platforms that answer by raising (Lambda, functions-framework) apply the same policy through
:meth:`veba_sdk.DispatchResult.raise_for_failure` and :class:`~veba_sdk.InvalidEvent`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .._context import Reply
from .._errors import InvalidEvent
from .._router import DispatchResult
from ..events import Envelope
from ..events.http import Mode
from ..logging import one_line
from ._reply import encode_batch, encode_reply, json_answer
from .response import NO_CONTENT, Response, invalid, plain

__all__ = ["dispatch_failure", "respond", "undecodable"]

logger = logging.getLogger("veba_sdk.adapters")


def undecodable(exc: Exception) -> Response:
    """The answer to a request the decoder raised ``exc`` for (400 with the reason)."""
    if isinstance(exc, InvalidEvent):
        return invalid(exc)
    # The decoder promises InvalidEvent only. Anything else is a bug in it, but the
    # input is what triggered it and a retry cannot succeed: 400, and say so in the log.
    logger.error("decoder bug: %s on undecodable input", type(exc).__name__, exc_info=exc)
    return plain(400, f"undecodable event ({type(exc).__name__})")


def dispatch_failure(envelope: Envelope, exc: Exception) -> Response:
    """The answer when the router itself raised: 400 for :class:`InvalidEvent`, else 500."""
    if isinstance(exc, InvalidEvent):
        return invalid(exc)
    event_id = envelope.attributes.get("id")
    logger.error(
        "dispatch failed for event %s (id %s): %s",
        one_line(envelope.name),
        one_line(str(event_id)),
        type(exc).__name__,
        exc_info=exc,
    )
    return plain(
        500, f"dispatch failed for event {envelope.name} id {event_id}: {type(exc).__name__}"
    )


def _failure_reason(results: Sequence[DispatchResult]) -> str:
    failed = [r for r in results if not r.ok]
    parts = []
    for result in failed:
        names = ", ".join(f"{name} ({type(exc).__name__})" for name, exc in result.failed)
        parts.append(
            f"event {result.envelope.name} id {result.envelope.attributes.get('id')}: {names}"
        )
    head = (
        "handler failed for "
        if len(results) == 1
        else (f"{len(failed)} of {len(results)} events failed: ")
    )
    return head + "; ".join(parts)


def respond(results: Sequence[DispatchResult], reply_mode: Mode = "binary") -> Response:
    """The answer for dispatched events: 500 if any failed, else reply, JSON or 204.

    One reply becomes the response CloudEvent (binary or structured per ``reply_mode``);
    several (a batch, or several handlers replying) become a structured batch, which Knative
    brokers do not accept, so this is logged. Dict values returned by handlers become a JSON
    body (a list when there are several).
    """
    if len(results) == 1:  # the usual delivery: one event, handlers ran, nothing to say
        only = results[0]
        if not only.failed and not only.replies and not only.values:
            return NO_CONTENT
    if any(not result.ok for result in results):
        return plain(500, _failure_reason(results))
    replies: list[Reply] = [reply for result in results for reply in result.replies]
    if replies:
        if len(replies) == 1:
            return encode_reply(replies[0], reply_mode)
        logger.warning(
            "%d reply events for one request: answering with a CloudEvents batch, "
            "which Knative brokers do not deliver",
            len(replies),
        )
        return encode_batch(replies)
    values = [value for result in results for value in result.values if isinstance(value, dict)]
    if values:
        return json_answer(values[0] if len(values) == 1 else values)
    return NO_CONTENT
