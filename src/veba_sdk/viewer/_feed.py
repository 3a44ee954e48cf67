"""The live feed: a small ring of recent event records and the viewers subscribed to it.

Publishing is what the function pays: appending a record to a ``deque`` and waking each
subscriber. A record is turned into JSON only when a viewer reads it, once. Each subscriber
has a bounded backlog; one that falls that far behind is dropped (its page reconnects and
resumes from the ring), so a slow viewer never holds events or memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_RING", "EventFeed", "EventRecord", "Subscriber"]

#: Records kept for a page that opens or reconnects.
DEFAULT_RING = 100
#: Records a subscriber may have unread before it is dropped.
DEFAULT_BACKLOG = 256
#: Data longer than this (as JSON text) is shown cut, with its full size.
MAX_DATA_CHARS = 64 * 1024


class EventRecord:
    """One event as the viewer shows it.

    Attributes:
        seq: its number in this process's feed (the SSE event id).
        fields: what the page gets, as JSON (see :meth:`json`).
    """

    __slots__ = ("_json", "fields", "seq")

    def __init__(self, seq: int, fields: dict[str, Any]) -> None:
        self.seq = seq
        self.fields = fields
        self._json: str | None = None

    def json(self) -> str:
        """The record as one line of JSON (made once, on first use)."""
        text = self._json
        if text is None:
            fields = dict(self.fields)
            fields["seq"] = self.seq
            fields["data"] = _shown_data(fields.get("data"))
            fields["attributes"] = _shown_attributes(fields.get("attributes") or {})
            text = self._json = json.dumps(fields, default=str, ensure_ascii=False)
        return text


_CORE = ("specversion", "id", "source", "type", "subject", "time", "datacontenttype")


def _shown_attributes(attributes: Mapping[str, Any]) -> dict[str, str]:
    """Core attributes first, then the extensions, all as text."""
    shown = {key: str(attributes[key]) for key in _CORE if attributes.get(key) is not None}
    for key, value in attributes.items():
        if key not in shown and value is not None:
            shown[key] = str(value)
    return shown


def _shown_data(data: Any) -> Any:
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return {"truncated": True, "size": len(data), "preview": bytes(data[:256]).hex()}
        with contextlib.suppress(ValueError):  # the source's JSON payloads, as structures
            data = json.loads(data)
    try:
        text = json.dumps(data, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(data)
    if len(text) <= MAX_DATA_CHARS:
        return data
    return {"truncated": True, "size": len(text), "preview": text[:MAX_DATA_CHARS]}


class Subscriber:
    """One viewer's unread records. Made by :meth:`EventFeed.subscribe`, for a thread
    (:meth:`wait`) or, with ``loop``, for a coroutine on that loop (:meth:`wait_async`)."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop | None) -> None:
        self._items: deque[EventRecord] = deque()
        self._limit = limit
        self._loop = loop
        self._ready = asyncio.Event() if loop is not None else None
        self._condition = threading.Condition() if loop is None else None
        #: set when the subscriber fell ``limit`` records behind and was dropped
        self.dropped = False
        self.closed = False

    def push(self, record: EventRecord) -> None:
        """Queue a record (any thread); drop the subscriber when its backlog is full."""
        if self.dropped or self.closed:
            return
        if len(self._items) >= self._limit:
            self.dropped = True
        else:
            self._items.append(record)
        self._wake()

    def close(self) -> None:
        """End the subscription: a waiting reader returns."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self._condition is not None:
            with self._condition:
                self._condition.notify_all()
            return
        loop, ready = self._loop, self._ready
        if loop is None or ready is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            ready.set()
        else:
            loop.call_soon_threadsafe(ready.set)

    def take(self) -> list[EventRecord]:
        """The records queued since the last call."""
        items = []
        while self._items:
            items.append(self._items.popleft())
        return items

    def wait(self, timeout: float) -> list[EventRecord]:
        """Wait up to ``timeout`` seconds for records (thread subscribers)."""
        condition = self._condition
        if condition is None:
            raise RuntimeError("wait() is for thread subscribers; use wait_async()")
        with condition:
            if not self._items and not self.dropped and not self.closed:
                condition.wait(timeout)
        return self.take()

    async def wait_async(self, timeout: float) -> list[EventRecord]:
        """Wait up to ``timeout`` seconds for records (subscribers made with a loop)."""
        ready = self._ready
        if ready is None:
            raise RuntimeError("wait_async() needs a subscriber made with a loop")
        if not self._items and not self.dropped and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), timeout)
        ready.clear()
        return self.take()


class EventFeed:
    """Recent events for the live viewer: a ring of ``ring`` records, and subscribers.

    Args:
        ring: how many records a newly opened page gets.
        backlog: how many unread records a subscriber may have before it is dropped.
    """

    def __init__(self, ring: int = DEFAULT_RING, *, backlog: int = DEFAULT_BACKLOG) -> None:
        if ring < 1 or backlog < 1:
            raise ValueError("ring and backlog must be at least 1")
        self._ring: deque[EventRecord] = deque(maxlen=ring)
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._backlog = backlog
        self.published = 0

    def publish(self, fields: Mapping[str, Any]) -> EventRecord:
        """Add one event's record (``fields`` as the page reads them) and wake the viewers."""
        fields = dict(fields)
        fields.setdefault("received", time.time())  # shown as the page's local time
        with self._lock:
            record = EventRecord(next(self._seq), fields)
            self._ring.append(record)
            self.published += 1
            subscribers = self._subscribers
            if any(s.dropped or s.closed for s in subscribers):
                subscribers = self._subscribers = [
                    s for s in subscribers if not (s.dropped or s.closed)
                ]
        for subscriber in subscribers:
            subscriber.push(record)
        return record

    def subscribe(
        self, *, after: int = 0, loop: asyncio.AbstractEventLoop | None = None
    ) -> tuple[Subscriber, list[EventRecord]]:
        """A new subscriber and the ring's records numbered above ``after`` (what the page
        shows first, or missed while reconnecting)."""
        subscriber = Subscriber(self._backlog, loop)
        with self._lock:
            recent = [record for record in self._ring if record.seq > after]
            self._subscribers.append(subscriber)
        return subscriber, recent

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a subscriber (its page went away)."""
        subscriber.close()
        with self._lock:
            self._subscribers = [s for s in self._subscribers if s is not subscriber]

    @property
    def subscribers(self) -> int:
        """How many viewers are connected."""
        with self._lock:
            return sum(1 for s in self._subscribers if not (s.dropped or s.closed))

    def recent(self) -> list[EventRecord]:
        """The records in the ring, oldest first."""
        with self._lock:
            return list(self._ring)
