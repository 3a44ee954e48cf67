"""The HTTP status policy, in one place, for every adapter that answers HTTP requests.

The Knative ASGI and WSGI apps, func-python's entry point and the OpenFaaS handlers only move
bytes between their platform and the functions here:

=======================================================  =======================================
request                                                  answer
=======================================================  =======================================
``GET``/``HEAD`` on ``/health/liveness``, ``/readiness``  200 ``OK`` (readiness 503 when stopping)
any other method than ``POST``                           405 with ``Allow``
body over the limit (1 MiB by default)                   413
a batch of more than 100 events                          413
empty, not a CloudEvent, bad JSON/XML, wrong type        400 with a one-line ``text/plain`` reason
a handler raised (others of the event still ran)         500 naming the handlers and the event id
handlers ran, one replied                                200 with the reply CloudEvent
handlers ran, returned dicts                             200 with a JSON body
handlers ran (or none matched)                           204
=======================================================  =======================================

Reasons are one line and never carry a traceback or an exception's message (which may hold
data from the event); the full error is logged with the event id.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from .._context import Reply
from .._errors import InvalidEvent
from .._router import DispatchResult, Router
from ..events import Envelope
from ..events.http import (
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_BODY,
    BatchTooLarge,
    Headers,
    decode_http,
    decode_http_batch,
)
from ..logging import one_line

__all__ = [
    "BATCH_MEDIA_TYPE",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY",
    "HEALTH_PATHS",
    "REPLY_MODES",
    "Response",
    "check_options",
    "decode_one",
    "decode_request",
    "dispatch_async",
    "dispatch_sync",
    "internal_error",
    "invalid",
    "plain",
    "preflight",
    "respond",
    "too_large",
    "undecodable",
]

logger = logging.getLogger("veba_sdk.adapters")

LIVENESS_PATH = "/health/liveness"
READINESS_PATH = "/health/readiness"
HEALTH_PATHS = frozenset({LIVENESS_PATH, READINESS_PATH})
REPLY_MODES = ("binary", "structured")
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"
STRUCTURED_MEDIA_TYPE = "application/cloudevents+json"
_MAX_REASON = 300
# The HTTP binding: percent-encode space, '"', '%' and everything outside printable ASCII.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')


class Response:
    """An HTTP answer in platform-neutral form.

    Attributes:
        status: the HTTP status code.
        headers: ``(name, value)`` pairs; values are ASCII.
        body: the response body.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        """The value of a header (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def status_line(self) -> str:
        """``"204 No Content"``: the WSGI status line."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"

    @property
    def has_length(self) -> bool:
        """Whether the answer carries ``Content-Length``: RFC 9110 forbids it on 1xx and 204."""
        return self.status >= 200 and self.status != 204

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ASGI byte pairs, with ``content-length`` where it is allowed."""
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        if self.has_length:
            raw.append((b"content-length", str(len(self.body)).encode("ascii")))
        return raw

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.headers!r}, {self.body[:80]!r})"


def _one_line(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    return reason


def plain(status: int, reason: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A one-line ``text/plain`` answer."""
    body = (_one_line(reason) + "\n").encode("utf-8")
    return Response(status, [("Content-Type", "text/plain; charset=utf-8"), *headers], body)


def invalid(exc: InvalidEvent) -> Response:
    """400 for input that is not a decodable vCenter CloudEvent."""
    return plain(400, exc.reason or "not a CloudEvent")


def too_large(max_body: int) -> Response:
    """413 for a body over the limit (the rest of it is never read)."""
    return plain(413, f"body is over the {max_body} byte limit")


def check_options(max_body: int, reply_mode: str) -> None:
    """Reject adapter options that can never work, at construction time.

    Raises:
        ValueError: ``max_body`` is not a positive int, or ``reply_mode`` is unknown.
    """
    if not isinstance(max_body, int) or isinstance(max_body, bool) or max_body <= 0:
        raise ValueError(f"max_body must be a positive number of bytes, not {max_body!r}")
    if reply_mode not in REPLY_MODES:
        raise ValueError(f"reply_mode must be one of {', '.join(REPLY_MODES)}, not {reply_mode!r}")


def preflight(method: str, path: str, *, ready: bool = True) -> Response | None:
    """Answer requests that are not event deliveries: health probes and wrong methods.

    Returns:
        the answer, or ``None`` when the request is a ``POST`` whose body should be decoded.
    """
    if path in HEALTH_PATHS:
        if method == "GET" or method == "HEAD":
            if path == READINESS_PATH and not ready:
                return plain(503, "not ready")
            return plain(200, "OK")
        return plain(405, f"method {method[:20]} not allowed on {path}", [("Allow", "GET, HEAD")])
    if method != "POST":
        return plain(
            405, f"method {method[:20]} not allowed: POST a CloudEvent", [("Allow", "POST")]
        )
    return None


def declared_length(value: bytes | str | None) -> int | None:
    """The ``Content-Length`` as an int, ``None`` when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    return int(text) if text.isdigit() else None


def is_batch(content_type: bytes | str | None) -> bool:
    """Whether a ``Content-Type`` is ``application/cloudevents-batch+json``."""
    if not content_type:
        return False
    text = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    return text.split(";", 1)[0].strip().lower() == BATCH_MEDIA_TYPE


def decode_request(
    headers: Headers, body: bytes, *, batch: bool, max_body: int
) -> list[Envelope] | Response:
    """Decode a POSTed body into envelopes, or the 400/413 answer.

    Args:
        headers: a mapping or ASGI raw header pairs, passed to the decoder untouched.
        body: the whole body (already bounded by ``max_body``).
        batch: the content type is ``application/cloudevents-batch+json``.
        max_body: the size limit.
    """
    if len(body) > max_body:
        return too_large(max_body)
    if not batch:
        one = decode_one(headers, body, max_body=max_body)
        return one if isinstance(one, Response) else [one]
    try:
        return decode_http_batch(headers, body, max_body=max_body)
    except BatchTooLarge as exc:
        return plain(413, exc.reason)
    except Exception as exc:
        return undecodable(exc)


def decode_one(headers: Headers, body: bytes, *, max_body: int) -> Envelope | Response:
    """Decode a POSTed body that is not a batch into one envelope, or the 400/413 answer."""
    if len(body) > max_body:
        return too_large(max_body)
    try:
        return decode_http(headers, body, max_body=max_body)
    except Exception as exc:
        return undecodable(exc)


def undecodable(exc: Exception) -> Response:
    """The answer to a request the decoder raised ``exc`` for (400 with the reason)."""
    if isinstance(exc, InvalidEvent):
        return invalid(exc)
    # The decoder promises InvalidEvent only. Anything else is a bug in it, but the
    # input is what triggered it and a retry cannot succeed: 400, and say so in the log.
    logger.error("decoder bug: %s on undecodable input", type(exc).__name__, exc_info=exc)
    return plain(400, f"undecodable event ({type(exc).__name__})")


def dispatch_sync(
    router: Router, envelopes: Sequence[Envelope], platform: Any
) -> list[DispatchResult] | Response:
    """Run the router for each envelope (sync handlers inline, async ones on a private loop)."""
    results = []
    for envelope in envelopes:
        try:
            results.append(router.dispatch(envelope, platform_context=platform))
        except Exception as exc:
            return dispatch_failure(envelope, exc)
    return results


async def dispatch_async(
    router: Router, envelopes: Sequence[Envelope], platform: Any
) -> list[DispatchResult] | Response:
    """Run the router for each envelope from async code (sync handlers in a worker thread)."""
    results = []
    for envelope in envelopes:
        try:
            results.append(await router.dispatch_async(envelope, platform_context=platform))
        except Exception as exc:
            return dispatch_failure(envelope, exc)
    return results


def dispatch_failure(envelope: Envelope, exc: Exception) -> Response:
    """The answer when the router itself raised: 400 for :class:`InvalidEvent`, else 500."""
    if isinstance(exc, InvalidEvent):
        return invalid(exc)
    return internal_error(envelope, exc)  # e.g. an idempotency store failed


def internal_error(envelope: Envelope, exc: Exception) -> Response:
    logger.error(
        "dispatch failed for event %s (id %s): %s",
        one_line(envelope.name),
        one_line(str(envelope.attributes.get("id"))),
        type(exc).__name__,
        exc_info=exc,
    )
    return plain(
        500,
        f"dispatch failed for event {envelope.name} id {envelope.attributes.get('id')}: "
        f"{type(exc).__name__}",
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


def respond(results: Sequence[DispatchResult], reply_mode: str = "binary") -> Response:
    """The answer for dispatched events: 500 if any failed, else reply, JSON or 204.

    One reply becomes the response CloudEvent (binary or structured per ``reply_mode``);
    several (a batch, or several handlers replying) become a structured batch, which Knative
    brokers do not accept, so this is logged. Dict values returned by handlers become a JSON
    body (a list when there are several).
    """
    if len(results) == 1:  # the usual delivery: one event, handlers ran, nothing to say
        only = results[0]
        if not only.failed and not only.replies and not only.values:
            return Response(204, [])
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
        return _encode_batch(replies)
    values = [value for result in results for value in result.values if isinstance(value, dict)]
    if values:
        try:
            body = _dumps(values[0] if len(values) == 1 else values)
        except (TypeError, ValueError) as exc:
            return plain(500, f"a handler returned a value that is not JSON: {exc}")
        return Response(200, [("Content-Type", "application/json")], body)
    return Response(204, [])


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode("utf-8")


def _data_parts(data: Any) -> tuple[str | None, bytes]:
    """``(content type, bytes)`` of reply data."""
    if data is None:
        return None, b""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return "application/octet-stream", bytes(data)
    if isinstance(data, str):
        return "text/plain; charset=utf-8", data.encode("utf-8")
    return "application/json", _dumps(data)


def _structured(reply: Reply) -> dict[str, Any]:
    obj: dict[str, Any] = dict(reply.attributes(id=str(uuid.uuid4())))
    data = reply.data
    if data is None:
        return obj
    if isinstance(data, (bytes, bytearray, memoryview)):
        obj["datacontenttype"] = "application/octet-stream"
        obj["data_base64"] = base64.b64encode(bytes(data)).decode("ascii")
    elif isinstance(data, str):
        obj["datacontenttype"] = "text/plain"
        obj["data"] = data
    else:
        obj["datacontenttype"] = "application/json"
        obj["data"] = data
    return obj


def encode_reply(reply: Reply, mode: str = "binary") -> Response:
    """A reply event as a 200 response in the CloudEvents HTTP binding."""
    try:
        if mode == "structured":
            body = _dumps(_structured(reply))
            return Response(
                200, [("Content-Type", STRUCTURED_MEDIA_TYPE + "; charset=utf-8")], body
            )
        content_type, body = _data_parts(reply.data)
    except (TypeError, ValueError) as exc:
        return plain(500, f"a reply's data is not JSON: {exc}")
    headers = [
        ("ce-" + name, quote(str(value), safe=_HEADER_SAFE))
        for name, value in reply.attributes(id=str(uuid.uuid4())).items()
    ]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return Response(200, headers, body)


def _encode_batch(replies: Sequence[Reply]) -> Response:
    try:
        body = _dumps([_structured(reply) for reply in replies])
    except (TypeError, ValueError) as exc:
        return plain(500, f"a reply's data is not JSON: {exc}")
    return Response(200, [("Content-Type", BATCH_MEDIA_TYPE + "; charset=utf-8")], body)
