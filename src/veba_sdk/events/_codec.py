"""Decoding of CloudEvent data: JSON (orjson when installed) or XML text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import InvalidEvent

__all__ = ["decode_data", "is_json", "is_xml", "loads"]

# The decoder is chosen on first use, not at import: importing orjson costs several ms
# (it imports dataclasses, uuid, ... to know their types) that a cold start should not pay
# before the first event.
_loads: Callable[[bytes | str], Any] | None = None
_DecodeErrors: tuple[type[Exception], ...] = ()


def _codec() -> Callable[[bytes | str], Any]:
    global _loads, _DecodeErrors
    if _loads is None:
        try:  # orjson is an optional accelerator (the `fast` extra)
            import orjson

            _DecodeErrors = (orjson.JSONDecodeError, RecursionError, UnicodeDecodeError, TypeError)
            _loads = orjson.loads
        except ImportError:  # pragma: no cover - exercised in environments without orjson
            import json

            _DecodeErrors = (ValueError, RecursionError, UnicodeDecodeError, TypeError)
            _loads = json.loads
    return _loads


def loads(body: bytes | str) -> Any:
    """Parse JSON with orjson when installed, else the standard library."""
    return (_loads or _codec())(body)


def is_xml(content_type: str | None) -> bool:
    """Whether a media type is XML (``application/xml``, ``text/xml``, ``...+xml``)."""
    return content_type is not None and "xml" in content_type.lower()


def is_json(content_type: str | None) -> bool:
    """Whether a media type is JSON; a missing one counts as JSON (VEBA's default)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def loads_json(body: bytes | bytearray | memoryview | str, what: str = "body") -> Any:
    """Parse JSON, raising only :class:`InvalidEvent` with a one-line reason."""
    if body.__class__ is not bytes and isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    decode = _loads or _codec()
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
