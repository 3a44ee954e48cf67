"""The CloudEvents HTTP binding, both ways: our small decoder (the hot path of every HTTP
adapter) and the encoders (``events/_encode.py``) that replies, the test kit and ``veba listen``
send with.

The public home of what HTTP adapters use: :func:`decode_http`, :func:`decode_http_batch`, the
ASGI pair :func:`read_asgi_headers` / :func:`decode_http_read`, :func:`structured_parts` (one
structured-mode event) and :func:`loads_json`; ``DEFAULT_MAX_BODY`` and ``DEFAULT_MAX_BATCH``
are :mod:`veba_sdk.wire`'s.

The ``cloudevents`` SDK's generic ``from_http`` costs ~25 us per request; this decoder does only
what the HTTP binding asks (binary and structured modes, batches, header percent-decoding) and is
held to the SDK's behaviour by tests running both against the CloudEvents conformance cases.

Binary mode: every ``ce-<name>`` header is an attribute (header names are case-insensitive);
values are unquoted when they are an RFC 7230 quoted-string, then percent-decoded once, and must
be valid UTF-8. ``Content-Type`` is ``datacontenttype``.
Structured mode: ``application/cloudevents+json``, the whole event is the JSON body.
VEBA's OpenFaaS processor posts the structured JSON with no CloudEvents content type at all,
so a body without ``ce-`` headers that is a JSON object with ``specversion`` is structured too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .._errors import InvalidEvent
from ..wire import (
    BATCH_MEDIA_TYPE,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_BODY,
    JSON_MEDIA_TYPE,
    STRUCTURED_MEDIA_TYPE,
)
from ._codec import loads_json
from ._encode import (
    Mode,
    dumps_json,
    encode_binary,
    encode_cloudevent,
    encode_structured,
    structured_document,
)
from ._envelope import Envelope, build_envelope, check_required

__all__ = [
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY",
    "BatchTooLarge",
    "Headers",
    "Mode",
    "decode_http",
    "decode_http_batch",
    "decode_http_read",
    "dumps_json",
    "encode_binary",
    "encode_cloudevent",
    "encode_structured",
    "loads_json",
    "read_asgi_headers",
    "read_cloudevent",
    "structured_document",
    "structured_parts",
]

#: Request headers: a mapping of names to values (any case), or ASGI's raw byte pairs.
Headers = Mapping[str, str] | Iterable[tuple[bytes, bytes]]

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _header_text(value: bytes | str, name: str) -> str:
    """Decode one ``ce-`` header value per the HTTP binding."""
    if isinstance(value, bytes):
        if value.isascii():
            text = value.decode("ascii")
        else:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidEvent(f"header ce-{name} is not valid UTF-8", field=name) from None
    else:
        text = value
        if not text.isascii():
            # WSGI servers hand headers over as latin-1 text: recover the bytes first.
            try:
                text = text.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                raise InvalidEvent(f"header ce-{name} is not valid UTF-8", field=name) from None
    if len(text) > 1 and text[0] == '"' and text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    if "%" in text:
        if _BAD_PERCENT.search(text):
            raise InvalidEvent(f"header ce-{name} has invalid percent-encoding", field=name)
        from urllib.parse import unquote_to_bytes  # not at import: it pulls in ipaddress

        try:
            text = unquote_to_bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent(f"header ce-{name} is not valid UTF-8", field=name) from None
    return text


def _read_headers(headers: Headers) -> tuple[dict[str, Any], str | None]:
    """Split headers into CloudEvent attributes (from ``ce-*``) and the content type."""
    if isinstance(headers, list) or not isinstance(headers, Mapping):
        attributes, content_type, _, _ = read_asgi_headers(headers)
        return attributes, content_type
    attributes = {}
    content_type = None
    for key, value in headers.items():
        key = key.lower()
        if key.startswith("ce-"):
            name = key[3:]
            if name != "datacontenttype":  # forbidden by the binding: Content-Type wins
                attributes[name] = _header_text(value, name)
        elif key == "content-type":
            content_type = value.decode("latin-1") if isinstance(value, bytes) else value
    return attributes, content_type


def read_asgi_headers(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[dict[str, Any], str | None, bytes | None, bytes | None]:
    """:func:`_read_headers` of ASGI pairs, plus what an ASGI app reads itself, in one pass.

    Returns ``(attributes, content type, raw content-type, raw content-length)``: the first two
    as :func:`_read_headers` gives them (for :func:`decode_http_read`), the raw values of the
    headers named exactly ``content-type`` and ``content-length`` (the last of each), as the
    app's own scan found them. Raises what :func:`_read_headers` raises.

    The hot path: what each header name is is looked up, not recomputed.
    """
    attributes: dict[str, Any] = {}
    content_type: str | None = None
    raw_type: bytes | None = None
    raw_length: bytes | None = None
    names = _HEADER_NAMES
    for raw_key, raw_value in headers:
        try:
            name = names[raw_key]  # a subscript: cheaper than .get on the hot path
        except KeyError:
            name = _header_name(raw_key)
        if name is _OTHER:
            if raw_key == b"content-length":
                raw_length = raw_value
            continue
        if name is _CONTENT_TYPE:
            content_type = raw_value.decode("latin-1")
            if raw_key == b"content-type":
                raw_type = raw_value
            continue
        try:
            text = raw_value.decode("ascii")
        except UnicodeDecodeError:
            text = _header_text(raw_value, name)
        else:
            if "%" in text or text[:1] == '"':
                text = _header_text(text, name)
        attributes[name] = text
    return attributes, content_type, raw_type, raw_length


# What an ASGI header name is: a CloudEvent attribute name (b"ce-id" -> "id"), or one of the
# two markers below (compared by identity). Names come from the wire, so what is kept is bounded
# in count and in size: the names producers and proxies send are there from the start, and
# others are added while there is room, only when at most _MAX_CACHED_NAME bytes long (the
# CloudEvents spec asks for attribute names of at most 20 characters). A longer name is still
# read, just never kept.
_OTHER = "\x00other"
_CONTENT_TYPE = "\x00content-type"
_HEADER_NAMES: dict[bytes, str] = {}
_MAX_HEADER_NAMES = 512
_MAX_CACHED_NAME = 64


def _header_name(raw_key: bytes) -> str:
    """The attribute name of a ``ce-`` header name, else :data:`_OTHER` or :data:`_CONTENT_TYPE`."""
    key = raw_key.lower()  # servers lower-case names already; this is cheap insurance
    if key[:3] == b"ce-":
        try:
            name = key[3:].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidEvent("a header name is not ASCII", field="headers") from None
        if name == "datacontenttype":  # forbidden by the binding: Content-Type wins
            name = _OTHER
    elif key == b"content-type":
        name = _CONTENT_TYPE
    else:
        name = _OTHER
    if len(raw_key) <= _MAX_CACHED_NAME and len(_HEADER_NAMES) < _MAX_HEADER_NAMES:
        _HEADER_NAMES[raw_key] = name
    return name


for _known in (
    # CloudEvents core and the extensions VEBA's producers and Knative send
    *(f"ce-{name}" for name in (
        "specversion", "id", "source", "type", "subject", "time", "dataschema",
        "datacontenttype", "eventclass", "vsphereapiversion", "traceparent", "tracestate",
        "knativearrivaltime", "knativebrokerttl",
    )),
    # what HTTP clients, Knative's queue-proxy and ingresses add
    "content-type", "content-length", "host", "user-agent", "accept", "accept-encoding",
    "connection", "authorization", "traceparent", "tracestate", "x-request-id",
    "x-forwarded-for", "x-forwarded-proto", "prefer", "k-proxy-request",
):  # fmt: skip
    _header_name(_known.encode("ascii"))
del _known


class BatchTooLarge(InvalidEvent):
    """A batch with more events than the limit: HTTP adapters answer 413, not 400."""


def _check_size(body: bytes, max_body: int) -> bytes:
    if not isinstance(body, bytes):
        body = bytes(body)
    if len(body) > max_body:
        raise InvalidEvent(f"body of {len(body)} bytes is over the {max_body} byte limit")
    return body


def _media(content_type: str | None) -> str:
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def structured_parts(obj: Any) -> tuple[dict[str, Any], Any, str | None]:
    """Attributes, data and content type of one structured-mode JSON object.

    Raises:
        InvalidEvent: not a JSON object, a missing required attribute, an attribute that is not
            a string, or ``data_base64`` that is not base64.
    """
    if not isinstance(obj, dict):
        raise InvalidEvent("a structured CloudEvent must be a JSON object")
    attributes = {k: v for k, v in obj.items() if k != "data" and k != "data_base64"}
    for key, value in attributes.items():
        if not isinstance(value, (str, int, bool)) and value is not None:
            raise InvalidEvent(f"attribute {key!r} must be a string", field=key)
    check_required(attributes)
    content_type = attributes.get("datacontenttype")
    if content_type is not None and not isinstance(content_type, str):
        raise InvalidEvent("attribute 'datacontenttype' must be a string", field="datacontenttype")
    if "data_base64" in obj:
        encoded = obj["data_base64"]
        if not isinstance(encoded, str):
            raise InvalidEvent("data_base64 must be a string", field="data_base64")
        import base64
        import binascii

        try:
            data: Any = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidEvent("data_base64 is not valid base64", field="data_base64") from None
    else:
        data = obj.get("data")
    return attributes, data, content_type


def read_cloudevent(
    headers: Headers, body: bytes, *, max_body: int = DEFAULT_MAX_BODY
) -> tuple[dict[str, Any], Any, str | None]:
    """The generic CloudEvents HTTP binding: ``(attributes, data, content type)``.

    Knows nothing of vCenter; :func:`decode_http` adds that. Binary-mode data stays bytes;
    structured-mode data is the decoded JSON value (or bytes from ``data_base64``).
    """
    body = _check_size(body, max_body)
    attributes, content_type = _read_headers(headers)
    return _parts(attributes, content_type, body)


def _parts(
    attributes: dict[str, Any], content_type: str | None, body: bytes
) -> tuple[dict[str, Any], Any, str | None]:
    """What :func:`read_cloudevent` answers, from headers already read."""
    if "specversion" in attributes:
        # Header values are always text, so being truthy is being a non-empty string;
        # check_required names the first one missing, or the specversion it refuses.
        get = attributes.get
        version = get("specversion")
        if (version != "1.0" and version != "0.3") or not (
            get("id") and get("source") and get("type")
        ):
            check_required(attributes)
        if content_type is not None:
            attributes["datacontenttype"] = content_type
        return attributes, body, content_type
    media = _media(content_type)
    if media == BATCH_MEDIA_TYPE:
        raise InvalidEvent("a batch of CloudEvents needs decode_http_batch")
    if not body:
        raise InvalidEvent("empty body: not a CloudEvent")
    if media.startswith(STRUCTURED_MEDIA_TYPE) or media in ("", JSON_MEDIA_TYPE, "text/plain"):
        return structured_parts(loads_json(body))
    raise InvalidEvent(f"content type {media[:80]!r} is not a CloudEvent", field="content-type")


def decode_http(headers: Headers, body: bytes, *, max_body: int = DEFAULT_MAX_BODY) -> Envelope:
    """Decode one vCenter CloudEvent from an HTTP request, in binary or structured mode.

    Args:
        headers: a mapping of header names to values (any case), or ASGI-style raw
            ``(name, value)`` byte pairs.
        body: the request body.
        max_body: bodies larger than this many bytes are rejected.

    Raises:
        InvalidEvent: not a decodable vCenter CloudEvent (including a batch: use
            :func:`decode_http_batch`); the message is one line naming the field.
    """
    body = _check_size(body, max_body)
    attributes, content_type = _read_headers(headers)
    return build_envelope(*_parts(attributes, content_type, body))


def decode_http_read(
    attributes: dict[str, Any],
    content_type: str | None,
    body: bytes,
    *,
    max_body: int = DEFAULT_MAX_BODY,
) -> Envelope:
    """:func:`decode_http` of a request whose headers :func:`read_asgi_headers` read."""
    body = _check_size(body, max_body)
    return build_envelope(*_parts(attributes, content_type, body))


def decode_http_batch(
    headers: Headers,
    body: bytes,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> list[Envelope]:
    """Decode the CloudEvents of an HTTP request: one (binary, structured) or a batch.

    A batch (``application/cloudevents-batch+json``) is a JSON array of structured events and
    may be empty. Any undecodable member fails the whole batch with :class:`InvalidEvent`
    naming its index, so the sender retries it whole and nothing is lost.

    Raises:
        BatchTooLarge: the batch holds more than ``max_batch`` events (an
            :class:`InvalidEvent` that HTTP adapters answer with 413).
    """
    body = _check_size(body, max_body)
    _, content_type = _read_headers(headers)
    if _media(content_type) != BATCH_MEDIA_TYPE:
        return [decode_http(headers, body, max_body=max_body)]
    items = loads_json(body)
    if not isinstance(items, list):
        raise InvalidEvent("a batch of CloudEvents must be a JSON array")
    if len(items) > max_batch:
        raise BatchTooLarge(
            f"batch of {len(items)} events is over the {max_batch} event limit", field="batch"
        )
    envelopes = []
    for index, item in enumerate(items):
        try:
            envelopes.append(build_envelope(*structured_parts(item)))
        except InvalidEvent as exc:
            raise InvalidEvent(f"batch item {index}: {exc.reason}", field=exc.field) from None
    return envelopes
