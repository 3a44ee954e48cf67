"""The cyclic garbage collector's youngest-generation threshold, for a serving process.

CPython collects its youngest generation every 700 net new container objects. An ASGI server
whose ``def`` handlers run in worker threads keeps every waiting request's objects alive
(about 50 each: the scope, the decoded payload, the typed event, futures), so with a few dozen
requests in flight that threshold is crossed all the time, and each collection promotes the
waiting requests' objects to the older generations, whose collections then walk the whole
heap. Under load (``benchmarks/http_load``) that cost a ``def``-handler server about 15% of its
requests per second; with the threshold at 10,000 it is gone, and memory stays flat (the
collector still runs, just on larger batches; refcounting frees everything else at once).

The ASGI app applies this at lifespan startup and puts the old value back at shutdown, only
when the threshold is still CPython's built-in default: a value someone chose is left alone.
"""

from __future__ import annotations

import gc

__all__ = ["DEFAULT_YOUNG_THRESHOLD", "YoungThreshold"]

#: The youngest generation's threshold the Knative app sets while it serves.
DEFAULT_YOUNG_THRESHOLD = 10_000
#: CPython's own default for it: the only value this module replaces.
INTERPRETER_DEFAULT = 700


class YoungThreshold:
    """Raise the youngest generation's threshold while serving, then put it back.

    Args:
        value: the threshold to serve with, or ``None`` to leave the collector alone.
    """

    def __init__(self, value: int | None) -> None:
        positive_int = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if value is not None and not positive_int:
            raise ValueError(f"gc_threshold must be a positive int or None, not {value!r}")
        self.value = value
        self._applied = False

    def apply(self) -> bool:
        """Set the threshold if it is the interpreter's default; whether it was set."""
        current = gc.get_threshold()
        if self.value is None or current[0] != INTERPRETER_DEFAULT:
            return False
        gc.set_threshold(self.value, *current[1:])
        self._applied = True
        return True

    def restore(self) -> None:
        """Put the default back, unless someone changed the threshold since."""
        current = gc.get_threshold()
        if self._applied and current[0] == self.value:
            gc.set_threshold(INTERPRETER_DEFAULT, *current[1:])
        self._applied = False
