"""The youngest-generation threshold that a ``def``-handler Knative server should serve with.

Contender (c) of ``run.py`` (veba-sdk's Knative ASGI app, a plain ``def`` handler, so every
request waits for a worker thread) under the same wrk load, once per threshold, interleaved
round by round: the interpreter's default, CPython 3.11's 700, and larger values. Each server
sets its threshold at import (``apps/veba_knative.py``, ``app_sync_fixed_gc``, the app's own
setting off) and answers with the collector's statistics, so the report shows requests/s,
latency, resident memory after the load and how many collections of each generation ran per
1,000 requests.

Run: ``python benchmarks/http_load/gc_sweep.py [--thresholds default,700,10000]
[--connections 32,128] [--write]`` (about 5 minutes with the defaults; ``--write`` puts the table in
docs/performance.md under a heading naming the interpreter). Needs what ``run.py`` needs.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402
from _sample import FIXTURE  # noqa: E402
from _timing import machine  # noqa: E402

DEFAULT_THRESHOLDS = "default,700,2000,10000"


def contenders(thresholds: list[str], speedups: Path | None) -> list[run.Contender]:
    """One server per threshold: contender (c) with the collector set by hand."""
    uv = [sys.executable, "-m", "uvicorn", *run.uvicorn_options(speedups)]
    path = os.pathsep.join(filter(None, [str(speedups or ""), os.environ.get("PYTHONPATH")]))
    chosen = []
    for number, threshold in enumerate(thresholds):
        env = {}
        if threshold != "default":
            env["VEBA_BENCH_GC_THRESHOLD"] = threshold
        if path:
            env["PYTHONPATH"] = path
        chosen.append(
            run.Contender(
                chr(ord("a") + number),  # keys for the harness only; rows show the threshold
                threshold,
                [*uv, "veba_knative:app_sync_fixed_gc"],
                env,
                expect=(204,),
            )
        )
    return chosen


def gc_stats(port: int) -> list[dict[str, int]]:
    """The server's ``gc.get_stats()``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/_gc_stats")
        stats: list[dict[str, int]] = json.loads(conn.getresponse().read())
        return stats
    finally:
        conn.close()


def sweep(
    thresholds: list[str], connections: int, args: argparse.Namespace, body_file: Path
) -> list[str]:
    """Fresh servers, one per threshold, loaded interleaved; one table row each."""
    run.CONNECTIONS = connections
    chosen = contenders(thresholds, args.speedups)
    samples: dict[str, list[run.Measurement]] = {c.key: [] for c in chosen}
    rss: dict[str, int] = {}
    stats: dict[str, list[dict[str, int]]] = {}
    with run.servers(chosen, body_file.parent, body_file.read_bytes()) as running:
        for number in range(1, args.rounds + 1):
            for contender in chosen:
                server = running[contender.key]
                run.run_wrk(server.url, body_file, seconds=args.warmup)
                result = run.run_wrk(server.url, body_file, seconds=args.seconds)
                samples[contender.key].append(result)
                print(
                    f"{connections} connections, round {number}/{args.rounds}, threshold "
                    f"{contender.label}: {result.rps:9.0f} req/s",
                    file=sys.stderr,
                    flush=True,
                )
        for contender in chosen:
            server = running[contender.key]
            rss[contender.key] = server.rss_kib()
            stats[contender.key] = gc_stats(server.port)
    baseline = statistics.median(m.rps for m in samples[chosen[0].key])
    rows = []
    for contender in chosen:
        runs = samples[contender.key]
        rps = statistics.median(m.rps for m in runs)
        # Warm-up runs are served too: about (warmup + seconds) / seconds times the measured
        # requests; collections are counted over all of them.
        served = sum(m.requests for m in runs) * (args.warmup + args.seconds) / args.seconds
        per_k = " / ".join(f"{g['collections'] * 1000 / served:.2f}" for g in stats[contender.key])
        label = f"{gc.get_threshold()[0]} (default)" if contender.label == "default" else ""
        rows.append(
            f"| {connections} | {label or contender.label} | {rps:,.0f} | {rps / baseline:.2f}x | "
            f"{statistics.median(m.p50_us for m in runs) / 1000:.2f} / "
            f"{statistics.median(m.p99_us for m in runs) / 1000:.2f} | {per_k} | "
            f"{rss[contender.key] / 1024:.1f} | {sum(m.errors for m in runs)} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--thresholds", default=DEFAULT_THRESHOLDS)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--connections", default="32,128", help="wrk connections (requests in flight), each a run"
    )
    parser.add_argument(
        "--speedups",
        type=Path,
        default=os.environ.get("VEBA_BENCH_SPEEDUPS") or None,
        help="directory with httptools and uvloop (see run.py)",
    )
    parser.add_argument("--write", action="store_true", help="write docs/performance.md")
    args = parser.parse_args(argv)
    thresholds = [t.strip() for t in args.thresholds.split(",") if t.strip()]
    if args.speedups is not None:
        args.speedups = args.speedups.resolve()  # the servers run from apps/
    rows = []
    with tempfile.TemporaryDirectory(prefix="veba-gc-sweep-") as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(json.dumps(json.loads(FIXTURE.read_text())).encode())
        for connections in args.connections.split(","):
            rows += sweep(thresholds, int(connections), args, body_file)
    version = ".".join(map(str, sys.version_info[:2]))
    title = f"Garbage collector threshold: Python {version}"  # one section per interpreter
    markdown = "\n".join(
        [
            f"## {title}",
            "",
            f"Measured on {machine()}; default thresholds {gc.get_threshold()}. "
            f"`python benchmarks/http_load/gc_sweep.py`: contender (c) of the HTTP load "
            f"benchmark (def handler, worker thread) with the youngest-generation threshold set "
            f"by hand, fresh servers for each number of wrk connections, {args.rounds} "
            f"interleaved rounds of {args.seconds:g} s (after {args.warmup:g} s warm-up each), "
            "medians; collections per 1,000 requests by generation (young / middle / old) over "
            "the whole run; resident memory at the end; errors: wrk's timeouts (5 s) and "
            "failed answers, counted rather than fatal on a loaded machine.",
            "",
            "| connections | threshold | requests/s | of default | latency p50 / p99 ms "
            "| collections / 1k requests | VmRSS MiB | errors |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(markdown)
    if args.write:
        from _report import write_section

        write_section(title, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
