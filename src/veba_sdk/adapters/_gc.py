"""The cyclic garbage collector's youngest-generation threshold, for a serving process.

CPython collects its youngest generation every 700 net new container objects (2,000 from
CPython 3.13 on). An ASGI server whose ``def`` handlers run in worker threads keeps every
waiting request's objects alive (about 50 each: the scope, the decoded payload, the typed
event, futures), so with enough requests in flight that threshold is crossed all the time, and
each collection promotes the waiting requests' objects to the older generations, whose
collections then walk the whole heap. Under load (``benchmarks/http_load``) that cost a
``def``-handler server on 3.11 about 15% of its requests per second; with the threshold at
10,000 it is gone, and memory stays flat (the collector still runs, just on larger batches;
refcounting frees everything else at once).

3.13's 2,000 holds about 40 waiting requests, fewer than the ~100 a Knative revision takes by
default. ``benchmarks/http_load/gc_sweep.py`` counted young collections per 1,000 requests with
128 in flight: 31-35 at 700, 6-8 at 2,000 and under 0.4 at 10,000, on 3.11, 3.13 and 3.14 alike
(with 32 in flight 2,000 already suffices); resident memory was the same at every threshold
(docs/performance.md). So the same 10,000 serves every supported interpreter.

The ASGI app applies this at lifespan startup and puts the old value back at shutdown, only
when the threshold is still the running interpreter's built-in default: a value someone chose
is left alone.
"""

from __future__ import annotations

import gc
import sys

__all__ = ["DEFAULT_YOUNG_THRESHOLD", "YoungThreshold"]

#: The youngest generation's threshold the Knative app sets while it serves.
DEFAULT_YOUNG_THRESHOLD = 10_000
#: The running CPython's own default for it: the only value this module replaces
#: (``tests/adapters/test_gc_threshold.py`` checks it against a fresh interpreter).
INTERPRETER_DEFAULT = 2_000 if sys.version_info >= (3, 13) else 700


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
