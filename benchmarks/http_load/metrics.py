"""Knative requests/s with metrics on and off, side by side in one run.

Contenders (b) and (c) of ``run.py`` (the Knative ASGI app under uvicorn, ``async def`` and
``def`` handler) against the same apps made with ``metrics=True`` (``apps/veba_metrics.py``),
loaded by ``wrk`` as ``run.py`` does (server pinned to core 0, wrk to core 1, 32 connections),
interleaved round after round; medians are reported with the cost of metrics (target: at most
10% fewer requests/s, issue 14). Besides requests/s, each run reads the server's CPU time
(``/proc/PID/stat``) per request: on a machine others load, it is the steadier figure, and for
a server bound by its one core, requests/s lost = 1 - CPU off / CPU on.

Run: ``python benchmarks/http_load/metrics.py`` (``--seconds``, ``--rounds``, ``--quick``,
``--speedups DIR`` as for ``run.py``;
writes the "Metrics" section of docs/performance.md unless ``--no-write``). Needs wrk and
taskset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402 - the harness of run.py, from its directory
from _sample import FIXTURE  # noqa: E402
from _timing import machine  # noqa: E402

PAIRS = [("b", "bm", "async def handler"), ("c", "cm", "def handler (worker thread)")]
HOOK_ONLY = [("b", "bn", "async def handler"), ("c", "cn", "def handler")]
TARGET = 0.10


def contenders(speedups: Path | None = None) -> list[run.Contender]:
    """The plain apps and their metered twins, served as ``run.py`` serves (b) and (c): with
    httptools and uvloop from ``speedups`` when given."""
    uv = [sys.executable, "-m", "uvicorn", *run.uvicorn_options(speedups)]
    env = {"PYTHONPATH": str(speedups)} if speedups is not None else {}
    chosen = [
        run.Contender("b", "Knative ASGI, async def, metrics off", [*uv, "veba_knative:app_async"]),
        run.Contender("bm", "Knative ASGI, async def, metrics on", [*uv, "veba_metrics:app_async"]),
        run.Contender(
            "bn",
            "Knative ASGI, async def, a do-nothing observer",
            [*uv, "veba_metrics:app_async_observed"],
        ),
        run.Contender("c", "Knative ASGI, def, metrics off", [*uv, "veba_knative:app_sync"]),
        run.Contender("cm", "Knative ASGI, def, metrics on", [*uv, "veba_metrics:app_sync"]),
        run.Contender(
            "cn",
            "Knative ASGI, def, a do-nothing observer",
            [*uv, "veba_metrics:app_sync_observed"],
        ),
    ]
    for contender in chosen:
        contender.env = dict(env)
    return chosen


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    chosen: list[run.Contender],
    body_file: Path,
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    logdir: Path,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Interleaved rounds, as ``run.measure``; each run also yields the server's CPU time per
    request (microseconds), which other load on a shared machine disturbs far less than
    requests/s."""
    rps: dict[str, list[float]] = {c.key: [] for c in chosen}
    cpu: dict[str, list[float]] = {c.key: [] for c in chosen}
    with run.servers(chosen, logdir, body_file.read_bytes()) as running:
        for number in range(1, rounds + 1):
            for contender in chosen:
                server = running[contender.key]
                run.run_wrk(server.url, body_file, seconds=warmup)
                before = cpu_seconds(server.proc.pid)
                result = run.run_wrk(server.url, body_file, seconds=seconds)
                used = cpu_seconds(server.proc.pid) - before
                if result.errors or not result.requests:
                    raise RuntimeError(f"{server.describe()}: {result.errors} errors under load")
                rps[contender.key].append(result.rps)
                cpu[contender.key].append(used / result.requests * 1e6)
                print(
                    f"round {number}/{rounds} {contender.key}: {result.rps:9.0f} req/s, "
                    f"{cpu[contender.key][-1]:6.1f} CPU us/request",
                    file=sys.stderr,
                    flush=True,
                )
    return rps, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per contender, 2 rounds")
    parser.add_argument("--seconds", type=float, help="measured seconds per contender")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--speedups",
        type=Path,
        default=os.environ.get("VEBA_BENCH_SPEEDUPS") or None,
        help="directory with httptools and uvloop for uvicorn (as run.py's --speedups)",
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (2 if args.quick else 3)
    write = (not args.quick) if args.write is None else args.write
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("needs wrk and taskset", file=sys.stderr)
        return 2
    chosen = contenders(args.speedups)
    with tempfile.TemporaryDirectory(prefix="veba-metrics-load-") as tmp:
        logdir = Path(tmp)
        body_file = logdir / "body.json"
        body_file.write_bytes(json.dumps(json.loads(FIXTURE.read_text())).encode())
        rps, cpu = measure(
            chosen,
            body_file,
            rounds=rounds,
            seconds=seconds,
            warmup=1.0 if args.quick else 2.0,
            logdir=logdir,
        )
    medians = {key: statistics.median(values) for key, values in rps.items()}
    cpu_us = {key: statistics.median(values) for key, values in cpu.items()}
    lines = [
        "## Metrics",
        "",
        "Knative requests/s with `metrics=True` against the same app without "
        f"(`benchmarks/http_load/metrics.py`: {rounds} interleaved rounds of {seconds:g} s, "
        "wrk 1 thread x 32 connections on core 1, uvicorn pinned to core 0"
        f"{', httptools and uvloop' if args.speedups else ', h11 and asyncio'}; medians). "
        f"Target: metrics cost at most {TARGET:.0%}. {machine()}",
        "",
        "| handler | off: req/s | on: req/s | req/s cost | off: CPU us/req | on: CPU us/req "
        "| CPU cost | target met (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    met = True
    for off, on, label in PAIRS:
        cost = 1.0 - medians[on] / medians[off]
        cpu_cost = 1.0 - cpu_us[off] / cpu_us[on]  # the req/s a CPU-bound server loses
        ok = cpu_cost <= TARGET
        met = met and ok
        lines.append(
            f"| {label} | {medians[off]:,.0f} | {medians[on]:,.0f} | {cost:.1%} | "
            f"{cpu_us[off]:.0f} | {cpu_us[on]:.0f} | {cpu_cost:.1%} | {'yes' if ok else 'no'} |"
        )
    for off, on, label in HOOK_ONLY:
        hook = 1.0 - cpu_us[off] / cpu_us[on]
        lines.append(
            f"| {label}, a do-nothing observer (the hook alone) | {medians[off]:,.0f} | "
            f"{medians[on]:,.0f} | {1.0 - medians[on] / medians[off]:.1%} | "
            f"{cpu_us[off]:.0f} | {cpu_us[on]:.0f} | {hook:.1%} | |"
        )
    lines += [
        "",
        "With metrics off the app is the plain `ASGIApp` and the router has no observer (a "
        "dispatch pays one attribute test). On, the router's dispatch observer hook "
        "(`veba_sdk._observe`, shared with tracing and the viewer) calls the metrics observer "
        "at the event's start, each handler's end and the event's end; the metrics observer "
        "looks up the event's label and updates plain counts under one lock. The do-nothing "
        "observer row shows what the hook costs by itself. CPU time per request is the "
        "server process's user + system time over the requests wrk completed: on this shared "
        "machine it is the steadier figure, and for a server bound by its core the requests/s "
        "lost are 1 - CPU off / CPU on.",
    ]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if write:
        from _report import write_section

        write_section("Metrics", markdown)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
