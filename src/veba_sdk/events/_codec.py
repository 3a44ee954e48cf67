"""Decoding of CloudEvent data: JSON (orjson when installed) or XML text.

The one JSON backend picker of the events package: :func:`loads_json` (HTTP bodies, CloudEvent
data) and ``parse_event`` (event payloads) decode with what :func:`decoder` chose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import InvalidEvent
from ..wire import JSON_MEDIA_TYPE

__all__ = ["decode_data", "decoder", "is_json", "is_xml", "loads", "loads_json", "select_json"]

# The decoder is chosen on first use, not at import: importing orjson costs several ms
# (it imports dataclasses, uuid, ... to know their types) that a cold start should not pay
# before the first event. ``_loads`` decodes any JSON text; ``_object_loads`` is parse_event's
# fast-path decoder for bytes that start with ``{`` and may raise anything (the caller then
# takes the full path). parse_event reads ``_object_loads`` straight from this module: it is
# on the hot path, where a function call would cost more than the read.
_loads: Callable[[Any], Any] | None = None
_object_loads: Callable[[bytes], Any] | None = None
_DecodeErrors: tuple[type[Exception], ...] = ()
_raw_decode: Any = None
_JSON_SPACE = " \t\n\r"


def decoder() -> Callable[[Any], Any]:
    """The JSON decoder in use, chosen on first use: orjson when installed, else ``json``."""
    if _loads is None:
        try:  # orjson is an optional accelerator (the `fast` extra)
            import orjson  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            select_json("json")
        else:
            select_json("orjson")
    assert _loads is not None
    return _loads


def select_json(library: str | None) -> None:
    """Decode with ``"orjson"`` or the standard library's ``"json"`` (benchmarks, tests);
    ``None`` forgets the choice, so the next decode chooses again."""
    global _loads, _object_loads, _DecodeErrors, _raw_decode
    if library is None:
        _loads = _object_loads = None
        _DecodeErrors = ()
    elif library == "orjson":
        import orjson

        _DecodeErrors = (orjson.JSONDecodeError, RecursionError, UnicodeDecodeError, TypeError)
        _loads = _object_loads = orjson.loads
    else:
        import json

        _DecodeErrors = (ValueError, RecursionError, UnicodeDecodeError, TypeError)
        _raw_decode = json.JSONDecoder().raw_decode
        _loads = json.loads
        _object_loads = _stdlib_object_loads


def _stdlib_object_loads(payload: bytes) -> Any:
    """``json.loads(payload)`` for UTF-8 bytes starting with ``{``, minus its Python wrapper.

    ``json.loads`` detects the encoding, decodes with ``surrogatepass`` and runs the C scanner
    through ``JSONDecoder.decode``; here the scanner is reached through the public
    ``raw_decode`` directly (~1.5 us less on an 800-byte event). Anything unusual (a NUL as
    second byte, which json.loads would read as UTF-16/32, or text after the object) raises,
    and parse_event then takes the full path with ``json.loads`` and its error messages.
    """
    if payload[1:2] == b"\x00":
        raise ValueError("not UTF-8")
    text = payload.decode("utf-8", "surrogatepass")
    obj, end = _raw_decode(text)
    if end != len(text) and text[end:].strip(_JSON_SPACE):
        raise ValueError("extra data")
    return obj


def loads(body: bytes | str) -> Any:
    """Parse JSON with orjson when installed, else the standard library."""
    return (_loads or decoder())(body)


def is_xml(content_type: str | None) -> bool:
    """Whether a media type is XML (``application/xml``, ``text/xml``, ``...+xml``)."""
    return content_type is not None and "xml" in content_type.lower()


def is_json(content_type: str | None) -> bool:
    """Whether a media type is JSON; a missing one counts as JSON (VEBA's default)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON_MEDIA_TYPE or media.endswith("+json") or media == "text/json"


def loads_json(body: bytes | bytearray | memoryview | str, what: str = "body") -> Any:
    """Parse JSON, raising only :class:`InvalidEvent` with a one-line reason."""
    if body.__class__ is not bytes and isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    decode = _loads or decoder()
    try:
        return decode(body)
    except _DecodeErrors as exc:
        if isinstance(exc, RecursionError):
            raise InvalidEvent(f"{what} is nested too deeply", field=what) from None
        if isinstance(exc, UnicodeDecodeError):
            raise InvalidEvent(f"{what} is not valid UTF-8", field=what) from None
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidEvent(f"{what} is not valid JSON: {reason}", field=what) from None


def decode_data(data: bytes | bytearray | memoryview | str, content_type: str | None) -> Any:
    """Decode raw event data by its media type: a JSON value, or XML as text."""
    if is_xml(content_type):
        if isinstance(data, str):
            return data
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("data is not valid UTF-8", field="data") from None
    if not is_json(content_type):
        raise InvalidEvent(
            f"content type {(content_type or '')[:80]!r} is neither JSON nor XML",
            field="datacontenttype",
        )
    return loads_json(data, "data")
