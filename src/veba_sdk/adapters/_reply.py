"""A handler's reply event as the HTTP answer, encoded by the CloudEvents HTTP binding's
encoders (:mod:`veba_sdk.events.http`).

One reply is the response CloudEvent, binary or structured; several (a batch, or several
handlers replying) are a structured batch. Handlers' dict values are a JSON body.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from .._context import Reply
from ..events.http import Mode, dumps_json, encode_cloudevent, structured_document
from ..wire import BATCH_MEDIA_TYPE, JSON_MEDIA_TYPE
from .response import Response, plain

__all__ = ["encode_batch", "encode_reply", "json_answer"]


def json_answer(value: Any) -> Response:
    """200 with ``value`` as a JSON body (500 when it is not JSON)."""
    try:
        body = dumps_json(value)
    except (TypeError, ValueError) as exc:
        return plain(500, f"a handler returned a value that is not JSON: {exc}")
    return Response(200, [("Content-Type", JSON_MEDIA_TYPE)], body)


def encode_reply(reply: Reply, mode: Mode = "binary") -> Response:
    """A reply event as a 200 response, in binary or structured mode."""
    try:
        headers, body = encode_cloudevent(reply.attributes(id=str(uuid.uuid4())), reply.data, mode)
    except (TypeError, ValueError) as exc:
        return plain(500, f"a reply's data is not JSON: {exc}")
    return Response(200, [(_header_name(name), value) for name, value in headers.items()], body)


def encode_batch(replies: Sequence[Reply]) -> Response:
    """Several reply events as one structured batch (Knative brokers do not deliver those)."""
    try:
        body = dumps_json(
            [structured_document(r.attributes(id=str(uuid.uuid4())), r.data) for r in replies]
        )
    except (TypeError, ValueError) as exc:
        return plain(500, f"a reply's data is not JSON: {exc}")
    return Response(200, [("Content-Type", BATCH_MEDIA_TYPE + "; charset=utf-8")], body)


def _header_name(name: str) -> str:
    return "Content-Type" if name == "content-type" else name
