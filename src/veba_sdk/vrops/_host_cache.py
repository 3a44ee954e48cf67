"""The host-id cache: (host name or moref, vCenter uuid) -> vROps resource id."""

from __future__ import annotations

import threading

__all__ = ["HostIdCache"]


class HostIdCache:
    """Maps (name or moref, vCenter uuid) to a resource id; thread-safe, bounded."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: tuple[str, str]) -> str | None:
        """The cached id, or ``None``."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: tuple[str, str], resource_id: str) -> None:
        """Remember an id (drops the oldest entry when full)."""
        with self._lock:
            if len(self._data) >= self._max and key not in self._data:
                self._data.pop(next(iter(self._data)))
            self._data[key] = resource_id

    def invalidate(self, key: tuple[str, str] | None = None) -> None:
        """Forget one entry, or everything."""
        with self._lock:
            if key is None:
                self._data.clear()
            else:
                self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)
