"""Failures the stand-in injects on request: error statuses, dropped connections, delays."""

from __future__ import annotations

import attrs

__all__ = ["Fault", "Faults"]


@attrs.define(kw_only=True)
class Fault:
    """The next ``remaining`` requests whose path contains ``path`` fail this way."""

    remaining: int
    status: int | None = None  # None: reset the connection
    retry_after: float | None = None
    api_error_code: int | None = None
    path: str | None = None

    def matches(self, path: str) -> bool:
        """Whether this fault applies to a request for ``path``."""
        return self.path is None or self.path in path


class Faults:
    """Pending faults and delays; the caller serialises access (the fake's lock)."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self._delay = 0.0
        self._delay_remaining: int | None = None

    def add(self, fault: Fault) -> None:
        """Queue a fault behind those already pending."""
        self.pending.append(fault)

    def clear(self) -> None:
        """Forget every pending fault."""
        self.pending.clear()

    def set_delay(self, seconds: float, n: int | None) -> None:
        """Delay the next ``n`` answers (all, if ``None``) by ``seconds``."""
        self._delay = seconds
        self._delay_remaining = n

    def take_delay(self) -> float:
        """The delay of the request being answered (uses one up)."""
        if not self._delay:
            return 0.0
        delay = self._delay
        if self._delay_remaining is not None:
            self._delay_remaining -= 1
            if self._delay_remaining <= 0:
                self._delay, self._delay_remaining = 0.0, None
        return delay

    def take(self, path: str) -> Fault | None:
        """The fault that applies to a request for ``path`` (uses one up), or ``None``."""
        for fault in self.pending:
            if fault.remaining > 0 and fault.matches(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.pending.remove(fault)
                return fault
        return None
