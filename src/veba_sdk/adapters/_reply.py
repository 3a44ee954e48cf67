"""A handler's reply event as the HTTP answer, in the CloudEvents HTTP binding.

One reply is the response CloudEvent, binary or structured; several (a batch, or several
handlers replying) are a structured batch. Handlers' dict values are a JSON body.
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Sequence
from typing import Any

from .._context import Reply
from ..wire import BATCH_MEDIA_TYPE, JSON_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE, percent_encode
from .response import Response, plain

__all__ = ["dumps", "encode_batch", "encode_reply", "json_answer"]


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON; dates, bytes and sets in their usual JSON forms."""
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode("utf-8")


def json_answer(value: Any) -> Response:
    """200 with ``value`` as a JSON body (500 when it is not JSON)."""
    try:
        body = dumps(value)
    except (TypeError, ValueError) as exc:
        return plain(500, f"a handler returned a value that is not JSON: {exc}")
    return Response(200, [("Content-Type", JSON_MEDIA_TYPE)], body)


def _data_parts(data: Any) -> tuple[str | None, bytes]:
    """``(content type, bytes)`` of reply data."""
    if data is None:
        return None, b""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return "application/octet-stream", bytes(data)
    if isinstance(data, str):
        return "text/plain; charset=utf-8", data.encode("utf-8")
    return JSON_MEDIA_TYPE, dumps(data)


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
        obj["datacontenttype"] = JSON_MEDIA_TYPE
        obj["data"] = data
    return obj


def encode_reply(reply: Reply, mode: str = "binary") -> Response:
    """A reply event as a 200 response, in binary or structured mode."""
    try:
        if mode == "structured":
            body = dumps(_structured(reply))
            return Response(
                200, [("Content-Type", STRUCTURED_MEDIA_TYPE + "; charset=utf-8")], body
            )
        content_type, body = _data_parts(reply.data)
    except (TypeError, ValueError) as exc:
        return plain(500, f"a reply's data is not JSON: {exc}")
    headers = [
        ("ce-" + name, percent_encode(str(value)))
        for name, value in reply.attributes(id=str(uuid.uuid4())).items()
    ]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return Response(200, headers, body)


def encode_batch(replies: Sequence[Reply]) -> Response:
    """Several reply events as one structured batch (Knative brokers do not deliver those)."""
    try:
        body = dumps([_structured(reply) for reply in replies])
    except (TypeError, ValueError) as exc:
        return plain(500, f"a reply's data is not JSON: {exc}")
    return Response(200, [("Content-Type", BATCH_MEDIA_TYPE + "; charset=utf-8")], body)
