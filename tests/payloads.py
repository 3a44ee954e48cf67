"""Captured VEBA payloads for tests: `load_event("EnteredMaintenanceModeEvent")`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from veba_sdk.testing import Encoding, Mode, Producer

FIXTURES = Path(__file__).parent / "fixtures"
VEBA_EVENTS = FIXTURES / "veba-events"

#: (producer, mode, encoding): every envelope a deployed function can receive.
SHAPES: list[tuple[Producer, Mode, Encoding]] = [
    ("router", "binary", "json"),
    ("router", "structured", "json"),
    ("vsphere-source", "binary", "json"),
    ("vsphere-source", "structured", "json"),
    ("vsphere-source", "binary", "xml"),
    ("vsphere-source", "structured", "xml"),
]


def load_event(name: str) -> Any:
    """A captured VEBA payload from ``tests/fixtures/veba-events/``, decoded from JSON.

    ``name`` is the file name, with or without ``.json``, or a unique prefix of it
    (``"EnteredMaintenanceModeEvent"``).
    """
    return json.loads(load_event_bytes(name))


def load_event_bytes(name: str) -> bytes:
    """The raw bytes of a captured VEBA payload (see :func:`load_event`)."""
    path = VEBA_EVENTS / name
    if not path.exists():
        path = VEBA_EVENTS / f"{name}.json"
    if not path.exists():
        matches = sorted(VEBA_EVENTS.glob(f"{name}*.json"))
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} fixtures match {name!r}")
        path = matches[0]
    return path.read_bytes()


def unwrap(raw: Any) -> Any:
    """The CloudEvent (or bare payload) a fixture holds: one README wraps it in ``event``."""
    if isinstance(raw, dict) and "event" in raw and "data" not in raw:
        return raw["event"]
    return raw


def payload_of(raw: Any) -> Any:
    """The vCenter event itself (PascalCase JSON), from a fixture of any kind."""
    raw = unwrap(raw)
    return raw["data"] if isinstance(raw, dict) and "specversion" in raw else raw


def load_payload(name: str) -> Any:
    """:func:`payload_of` the fixture :func:`load_event` finds for ``name``."""
    return payload_of(load_event(name))
