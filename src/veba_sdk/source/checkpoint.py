"""Checkpoints: the last delivered vCenter event, persisted atomically.

The file is VEBA's event router format (``<checkpointDir>/cp-<vcenter host>.json``)::

    {"vCenter": "vc01.corp.local", "lastEventUUID": "...", "lastEventKey": 17208,
     "lastEventType": "UserLogoutSessionEvent",
     "lastEventKeyTimestamp": "2021-02-15T19:20:35.598999Z",
     "createdTimestamp": "2021-02-15T19:20:36.3326551Z"}

It is written after every delivered event: to a temporary file in the same directory,
``fsync``-ed, then ``os.replace``-d over the old one (and the directory ``fsync``-ed), so a
crash at any instant leaves either the old or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs

from veba_sdk._errors import VebaError
from veba_sdk.wire import format_time

__all__ = ["Checkpoint", "CheckpointError", "CheckpointStore", "checkpoint_path"]


class CheckpointError(VebaError):
    """A checkpoint file exists but cannot be read or written."""


def _parse_time(value: Any) -> dt.datetime:
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Go writes up to 9 fractional digits; Python reads up to 6.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


@attrs.frozen(kw_only=True)
class Checkpoint:
    """The last event delivered from one vCenter."""

    vcenter: str
    last_event_key: int
    last_event_type: str
    last_event_time: dt.datetime
    last_event_uuid: str = ""
    created: dt.datetime = attrs.field(factory=lambda: dt.datetime.now(dt.UTC))

    def to_json(self) -> dict[str, Any]:
        """The router's JSON document."""
        return {
            "vCenter": self.vcenter,
            "lastEventUUID": self.last_event_uuid,
            "lastEventKey": self.last_event_key,
            "lastEventType": self.last_event_type,
            "lastEventKeyTimestamp": format_time(self.last_event_time),
            "createdTimestamp": format_time(self.created),
        }

    @classmethod
    def from_json(cls, document: Any) -> Checkpoint:
        """Read the router's JSON document; raises ``KeyError``/``ValueError`` when malformed."""
        return cls(
            vcenter=str(document.get("vCenter", "")),
            last_event_key=int(document["lastEventKey"]),
            last_event_type=str(document.get("lastEventType", "")),
            last_event_time=_parse_time(document["lastEventKeyTimestamp"]),
            last_event_uuid=str(document.get("lastEventUUID", "")),
            created=_parse_time(document.get("createdTimestamp") or "0001-01-01T00:00:00Z"),
        )


def checkpoint_path(directory: str | os.PathLike[str], host: str) -> Path:
    """``<directory>/cp-<host>.json``, the router's file name."""
    return Path(directory) / f"cp-{host}.json"


class CheckpointStore:
    """Load and atomically save the checkpoint at ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> Checkpoint | None:
        """The saved checkpoint, or ``None`` when there is none yet.

        VEBA's empty initial checkpoint (zero timestamp) counts as none. A file that cannot
        be read or parsed raises :class:`CheckpointError` rather than silently starting
        from "now" and losing events.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint {self.path}: {exc.strerror}") from exc
        try:
            document = json.loads(text)
            if not document.get("lastEventKeyTimestamp") or str(
                document["lastEventKeyTimestamp"]
            ).startswith("0001-01-01"):
                return None
            return Checkpoint.from_json(document)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"checkpoint {self.path} is malformed: {exc}") from exc

    def save(self, checkpoint: Checkpoint) -> None:
        """Write ``checkpoint`` atomically (temporary file, fsync, rename, fsync directory)."""
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(checkpoint.to_json(), handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise CheckpointError(f"cannot write checkpoint {self.path}: {exc.strerror}") from exc

    def __repr__(self) -> str:
        return f"CheckpointStore({str(self.path)!r})"
