"""Benchmark the vCenter event source against govmomi's simulator on loopback.

For each collector page size and poll interval: start a fresh simulator, run the source in
its own process delivering in-process to a handler that records when each event arrived,
post 5,000 events with ``EventManager.PostEvent`` from this process (4 connections), and
report events/s from the first PostEvent to the last handler call, p50/p99 latency from
PostEvent's return to the handler, and the source process's CPU use while idle (10 s).

    python benchmarks/bench_source.py [--events 5000] [--markdown]

Needs tests/vcsim/bin/vcsim (tests/vcsim/build.sh). Both processes use CLOCK_MONOTONIC, which
is system-wide on Linux, so times compare across them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "source")]

CONFIGS = [  # (page size, poll interval in seconds)
    (100, 1.0),
    (100, 0.1),
    (1000, 0.1),
    (1000, 0.25),
    (1000, 0.05),
    (1000, 0.01),
]
IDLE_SECONDS = 10.0
POSTERS = 4


def worker(address: str, username: str, password: str, page: int, poll: float, out: str) -> None:
    """The source process: deliver to a recording handler until SIGTERM, then dump times."""
    from veba_sdk.source import VCenterSource

    arrivals: dict[str, float] = {}

    def handler(attributes: dict[str, Any], data: Any) -> None:
        arrivals[str(data.get("EventTypeId", ""))] = time.monotonic()

    source = VCenterSource(
        address,
        username=username,
        password=password,
        deliver=handler,
        verify=False,
        page_size=page,
        poll_interval=poll,
    )
    Path(out + ".ready").write_text("")
    source.run()
    Path(out).write_text(json.dumps(arrivals))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_one(events: int, page: int, poll: float, drain: bool = False) -> dict[str, float]:
    """One measurement; with ``drain`` the source is paused (SIGSTOP) while the events are
    posted and resumed after, measuring how fast it works through a backlog."""
    from source_helpers import VCSIM_BIN, Poster, Vcsim

    sim = Vcsim(VCSIM_BIN)
    out = tempfile.mktemp(prefix="bench-source-")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [sys.executable, __file__, "--worker", sim.address, sim.username, sim.password]
    proc = subprocess.Popen([*args, str(page), str(poll), out], env=env)
    try:
        posters = [Poster(sim) for _ in range(POSTERS)]
        while not Path(out + ".ready").exists():
            time.sleep(0.05)
        time.sleep(1.0 + poll)  # logged in, collector created
        posted: dict[str, float] = {}

        def post(index: int) -> None:
            poster = posters[index]
            for i in range(index, events, POSTERS):
                marker = f"bench.{i}"
                poster.post("eventex", marker)
                posted[marker] = time.monotonic()

        if drain:
            proc.send_signal(signal.SIGSTOP)
        start = time.monotonic()
        threads = [threading.Thread(target=post, args=(i,)) for i in range(POSTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        post_rate = events / (time.monotonic() - start)
        if drain:
            start = time.monotonic()
            proc.send_signal(signal.SIGCONT)
        time.sleep(max(2.0, 3 * poll))  # drain
        idle_from = cpu_seconds(proc.pid)
        time.sleep(IDLE_SECONDS)
        idle_cpu = (cpu_seconds(proc.pid) - idle_from) / IDLE_SECONDS * 100
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        arrivals: dict[str, float] = json.loads(Path(out).read_text())
        for poster in posters:
            poster.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.stop()
        for path in (out, out + ".ready"):
            if os.path.exists(path):
                os.unlink(path)
    got = [m for m in posted if m in arrivals]
    latencies = sorted((arrivals[m] - posted[m]) * 1000 for m in got)
    return {
        "page": page,
        "poll": poll,
        "delivered": len(got),
        "events_per_s": len(got) / (max(arrivals[m] for m in got) - start),
        "post_rate": post_rate,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "idle_cpu_pct": idle_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    options = parser.parse_args()
    rows = [run_one(options.events, page, poll) for page, poll in CONFIGS]
    drains = [run_one(options.events, page, 0.1, drain=True) for page in (100, 1000)]
    if options.markdown:
        print(
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
            f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}"
        )
        print()
        print(
            "| page size | poll interval | delivered | events/s | PostEvent/s "
            "| p50 ms | p99 ms | idle CPU |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        if options.markdown:
            print(
                f"| {row['page']} | {row['poll']:g} s | {row['delivered']} | "
                f"{row['events_per_s']:.0f} | {row['post_rate']:.0f} | "
                f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                f"{row['idle_cpu_pct']:.2f} % |"
            )
        else:
            print(json.dumps(row))
    if options.markdown:
        print()
        print("Backlog (source paused while the events were posted, then resumed):")
        print()
        print("| page size | delivered | drain events/s |")
        print("|---:|---:|---:|")
    for row in drains:
        if options.markdown:
            print(f"| {row['page']} | {row['delivered']} | {row['events_per_s']:.0f} |")
        else:
            print(json.dumps({"drain": True, **row}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        address, username, password, page, poll, out = sys.argv[2:8]
        worker(address, username, password, int(page), float(poll), out)
    else:
        main()
