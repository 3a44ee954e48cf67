"""What the router itself costs per event: ``dispatch`` and ``dispatch_async``, with and without
dispatch observers, against a baseline copy of the router, side by side in one run.

The event is decoded once (an :class:`~veba_sdk.events.Envelope`), so only the router is timed:
choosing the handlers (cached), calling them, the observer hooks, the result. Rows:

* ``sync``: ``dispatch`` of the event to one ``def`` handler;
* ``sync, idempotency``: the same through an in-memory idempotency store (every call the
  event from another source, so every event is claimed and completed; making that envelope
  is in the figure);
* ``async``: ``dispatch_async`` to one ``async def`` handler (N dispatches awaited in one
  coroutine, so the event loop's own cost is not in the figure);
* ``async, observer``: the same with one observer overriding every hook with a no-op (the
  observer machinery alone); ``async, base observer``: one that overrides none;
* ``async, prometheus``: the same with :class:`veba_sdk.metrics.PrometheusMetrics` observing
  (when prometheus-client is installed).

With ``--baseline DIR`` (a directory holding an older ``_router.py`` and ``_observe.py``), the
same rows run through that router too, interleaved round by round, and the table gives the
ratio of medians. Those files are loaded as ``veba_sdk._router_baseline`` and
``veba_sdk._observe_baseline``: they import the rest of the package as it is now. The router
before the split (one ``_router.py`` of 922 lines, ``Watch`` calling every hook through
``_safe``)::

    mkdir -p /tmp/router_baseline
    git show 402c4db:src/veba_sdk/_router.py > /tmp/router_baseline/_router.py
    git show 402c4db:src/veba_sdk/_observe.py > /tmp/router_baseline/_observe.py

(then change its two imports of ``events._envelope.MAX_NAME`` and ``events._type_ids`` to
``wire.MAX_NAME`` and ``events.type_ids``, the names those moved to).

Run: ``python benchmarks/bench_dispatch_overhead.py [--baseline /tmp/router_baseline]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _sample import FIXTURE, HEADERS
from _timing import compare, machine, table

import veba_sdk
from veba_sdk._observe import DispatchObserver
from veba_sdk.events import Envelope, decode_http


def _load(name: str, path: Path, source: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"veba_sdk.{name}", path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def load_baseline(directory: Path) -> type:
    """The ``Router`` class of the copies in ``directory``."""
    observe = directory / "_observe.py"
    _load("_observe_baseline", observe, observe.read_text())
    router = directory / "_router.py"
    source = router.read_text().replace("from ._observe import", "from ._observe_baseline import")
    return _load("_router_baseline", router, source).Router  # type: ignore[no-any-return]


class NoOpObserver(DispatchObserver):
    """Overrides every hook, doing nothing: what the observer machinery costs by itself."""

    def event_started(self, envelope: Any, platform_context: Any) -> Any:
        return None

    def handler_started(self, state: Any, route: Any) -> Any:
        return None

    def handler_finished(
        self, state: Any, route: Any, handler_state: Any, error: Any, seconds: float
    ) -> None:
        return None

    def event_finished(self, state: Any, result: Any) -> None:
        return None


def envelope() -> Envelope:
    """The benchmark event, decoded once."""
    return decode_http(HEADERS, FIXTURE.read_bytes())


def _prometheus() -> Any:
    try:
        from prometheus_client import CollectorRegistry
    except ImportError:
        return None
    from veba_sdk.metrics import PrometheusMetrics

    return lambda router: PrometheusMetrics(registry=CollectorRegistry()).observe(router)


def contenders(router_class: type, event: Envelope, number: int) -> dict[str, Callable[[], Any]]:
    """One callable per row, each doing ``number`` dispatches (so ``compare`` runs it once)."""
    name = "EnteredMaintenanceModeEvent"
    rows: dict[str, Callable[[], Any]] = {}

    sync = router_class()
    sync.on(name)(lambda event: None)
    rows["sync"] = _sync_many(sync, itertools.repeat(event), number)

    store = router_class(idempotency=True)
    store.on(name)(lambda event: None)
    ids = (_another(event, i) for i in itertools.count())
    rows["sync, idempotency"] = _sync_many(store, ids, number)

    async def handler(event: Any) -> None:
        return None

    loop = asyncio.new_event_loop()
    plain = router_class()
    plain.on(name)(handler)
    rows["async"] = _async_many(loop, plain, event, number)

    observed = router_class()
    observed.on(name)(handler)
    observed.add_observer(NoOpObserver())
    rows["async, observer"] = _async_many(loop, observed, event, number)

    base = router_class()
    base.on(name)(handler)
    base.add_observer(DispatchObserver())
    rows["async, base observer"] = _async_many(loop, base, event, number)

    prometheus = _prometheus()
    if prometheus is not None:
        metered = router_class()
        metered.on(name)(handler)
        prometheus(metered)
        rows["async, prometheus"] = _async_many(loop, metered, event, number)
    return rows


def _another(event: Envelope, number: int) -> Envelope:
    """The event from another source: another idempotency key."""
    attributes = {**event.attributes, "source": f"https://vcenter-{number}.local/sdk"}
    return Envelope(
        name=event.name,
        category=event.category,
        producer=event.producer,
        attributes=attributes,
        data=event.data,
        event=event.event,
    )


def _sync_many(router: Any, events: Any, number: int) -> Callable[[], Any]:
    dispatch = router.dispatch

    def run() -> None:
        for event in itertools.islice(events, number):
            dispatch(event)

    return run


def _async_many(
    loop: asyncio.AbstractEventLoop, router: Any, event: Envelope, number: int
) -> Callable[[], Any]:
    dispatch_async = router.dispatch_async

    async def many() -> None:
        for _ in range(number):
            await dispatch_async(event)

    return lambda: loop.run_until_complete(many())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="directory of a baseline _router.py")
    parser.add_argument("--number", type=int, default=2000, help="dispatches per sample")
    parser.add_argument("--rounds", type=int, default=15, help="samples per row")
    args = parser.parse_args()
    event = envelope()
    current = contenders(veba_sdk.Router, event, args.number)
    runs = {f"now: {row}": fn for row, fn in current.items()}
    if args.baseline:
        old = contenders(load_baseline(args.baseline), event, args.number)
        runs.update({f"baseline: {row}": fn for row, fn in old.items()})
    # interleaved, so both routers see the same machine load
    medians = compare(runs, number=1, rounds=args.rounds)
    lines = []
    for row in current:
        now = medians[f"now: {row}"] / args.number
        if args.baseline:
            before = medians[f"baseline: {row}"] / args.number
            lines.append((row, f"{before:,.0f} ns -> {now:,.0f} ns", f"{now / before:.3f}"))
        else:
            lines.append((row, f"{now:,.0f} ns", ""))
    print(f"Router dispatch, per event ({machine()}; medians of {args.rounds} rounds)\n")
    print(table(lines, ("row", "baseline -> now" if args.baseline else "now", "ratio")))


if __name__ == "__main__":
    main()
