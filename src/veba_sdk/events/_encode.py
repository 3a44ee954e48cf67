"""The CloudEvents HTTP binding's encoding side: a CloudEvent as request or response headers
and body, binary or structured. The decoder is :mod:`veba_sdk.events.http`, which re-exports
these; adapters answer with them (reply events), the test kit and ``veba listen`` send with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ..wire import JSON_MEDIA_TYPE, STRUCTURED_MEDIA_TYPE, percent_encode

__all__ = [
    "Mode",
    "dumps_json",
    "encode_binary",
    "encode_cloudevent",
    "encode_structured",
    "structured_document",
]

Mode = Literal["binary", "structured"]

_OCTETS = "application/octet-stream"
_STRUCTURED_HEADERS = {"content-type": STRUCTURED_MEDIA_TYPE + "; charset=utf-8"}


# json, base64 and datetime are imported when something is encoded: decoding an event (every
# cold start's first work) needs none of them.


def _json_default(value: Any) -> Any:
    import base64
    import datetime

    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def dumps_json(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON; dates as ISO 8601, bytes as base64, sets as lists,
    anything else unknown as its ``str``.

    Raises:
        TypeError, ValueError: ``value`` cannot be JSON (a circular structure, NaN keys...).
    """
    import json

    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def encode_binary(attributes: Mapping[str, Any], data: Any) -> tuple[dict[str, str], bytes]:
    """Headers and body of a binary-mode CloudEvent.

    Every attribute but ``datacontenttype`` is a ``ce-`` header (percent-encoded; ``None``
    values are left out); ``datacontenttype`` is the ``content-type``. ``data`` of ``None``
    is no body; bytes and text are sent as given (``application/octet-stream`` and
    ``text/plain; charset=utf-8`` unless ``datacontenttype`` says otherwise); anything else
    as JSON.
    """
    declared = attributes.get("datacontenttype")
    headers = {
        "ce-" + name: percent_encode(str(value))
        for name, value in attributes.items()
        if name != "datacontenttype" and value is not None
    }
    if data is None:
        body = b""
        content_type = declared
    elif isinstance(data, (bytes, bytearray, memoryview)):
        body = bytes(data)
        content_type = declared or _OCTETS
    elif isinstance(data, str):
        body = data.encode("utf-8")
        content_type = declared or "text/plain; charset=utf-8"
    else:
        body = dumps_json(data)
        content_type = declared or JSON_MEDIA_TYPE
    if content_type is not None:
        headers["content-type"] = str(content_type)
    return headers, body


def encode_structured(attributes: Mapping[str, Any], data: Any) -> tuple[dict[str, str], bytes]:
    """Headers and body of a structured-mode CloudEvent (``application/cloudevents+json``).

    ``data`` of ``None`` is left out; bytes go in ``data_base64``; text and JSON values in
    ``data``, with ``datacontenttype`` ``text/plain`` or JSON unless it is given.
    """
    return _STRUCTURED_HEADERS.copy(), dumps_json(structured_document(attributes, data))


def structured_document(attributes: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """The JSON object of a structured-mode CloudEvent (one member of a batch)."""
    document = {name: value for name, value in attributes.items() if value is not None}
    if data is None:
        return document
    if isinstance(data, (bytes, bytearray, memoryview)):
        import base64

        document.setdefault("datacontenttype", _OCTETS)
        document["data_base64"] = base64.b64encode(bytes(data)).decode("ascii")
    else:
        document.setdefault(
            "datacontenttype", "text/plain" if isinstance(data, str) else JSON_MEDIA_TYPE
        )
        document["data"] = data
    return document


def encode_cloudevent(
    attributes: Mapping[str, Any], data: Any, mode: Mode = "binary"
) -> tuple[dict[str, str], bytes]:
    """:func:`encode_binary` or :func:`encode_structured`, by ``mode``."""
    if mode == "structured":
        return encode_structured(attributes, data)
    if mode == "binary":
        return encode_binary(attributes, data)
    raise ValueError(f"mode must be binary or structured, not {mode!r}")
