"""Blocking ``def`` handlers under load: events/s and latency by the number of handler threads.

A handler that waits 50 ms (a vROps call) serves at most 20 events/s per thread, so the
number of threads, not the CPU count, bounds a replica. This runs the Knative app under
uvicorn (``apps/veba_blocking.py``) once per thread count (``VEBA_HANDLER_THREADS``) and loads
it with ``wrk`` (one thread, 200 connections, ``cloudevent.lua``), interleaved over rounds;
medians are reported. 6 is the old default on a 2-core pod (``min(32, CPUs + 4)``), 40 the
new one.

Run: ``python benchmarks/http_load/blocking.py`` (``--seconds``, ``--rounds``,
``--threads 6,40``, ``--connections``, ``--pin``). Needs wrk. ``VEBA_BENCH_SLEEP_MS=0`` with
``--connections 32 --pin`` is contender (c) of ``run.py``: what the thread count costs a
handler that does not block.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LUA = HERE / "cloudevent.lua"
sys.path.insert(0, str(HERE.parent))

from _sample import FIXTURE  # noqa: E402 - after the path it lives on


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(core: str | None, argv: list[str]) -> list[str]:
    """``argv`` run on one core (``taskset``), or as it is."""
    return argv if core is None else ["taskset", "-c", core, *argv]


def serve(threads: int, port: int, core: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, VEBA_HANDLER_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), str(HERE / "apps"), env.get("PYTHONPATH", "")) if p
    )
    argv = [
        sys.executable, "-m", "uvicorn", "veba_blocking:app", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--backlog", "4096",
    ]  # fmt: skip
    process = subprocess.Popen(pinned(core, argv), env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("uvicorn did not start")


def load(
    port: int, body: Path, seconds: int, connections: int, core: str | None = None
) -> dict[str, float]:
    argv = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(LUA), f"http://127.0.0.1:{port}/", "--", str(body),
    ]  # fmt: skip
    done = subprocess.run(
        pinned(core, argv), capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON "))
    data = json.loads(line[len("WRK_JSON ") :])
    errors = sum(
        data[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="6,40")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument(
        "--pin", action="store_true", help="server on core 0, wrk on core 1 (as run.py does)"
    )
    options = parser.parse_args()
    server_core, load_core = ("0", "1") if options.pin else (None, None)
    counts = [int(n) for n in options.threads.split(",")]
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "event.json"
        body.write_text(json.dumps(json.loads(FIXTURE.read_text())))
        for _ in range(options.rounds):
            for threads in counts:
                port = free_port()
                process = serve(threads, port, server_core)
                try:
                    load(port, body, 2, options.connections, load_core)  # warm-up
                    runs[threads].append(
                        load(port, body, options.seconds, options.connections, load_core)
                    )
                finally:
                    process.terminate()
                    process.wait(timeout=30)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"wrk -t1 -c{options.connections} -d{options.seconds}s, {options.rounds} rounds, medians."
    )
    print()
    print("| handler threads | events/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    for threads in counts:
        rows = runs[threads]
        print(
            f"| {threads} | {statistics.median(r['rps'] for r in rows):,.0f} "
            f"| {statistics.median(r['p50_ms'] for r in rows):,.0f} "
            f"| {statistics.median(r['p99_ms'] for r in rows):,.0f} "
            f"| {sum(int(r['errors']) for r in rows)} |"
        )


if __name__ == "__main__":
    main()
