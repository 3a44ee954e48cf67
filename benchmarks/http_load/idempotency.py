"""HTTP load: the Knative app with the Redis idempotency store, the in-memory one, and none.

Each request is a different vCenter event (``idempotency.lua`` counts the Key up), so a store
claims (Redis: one ``MULTI`` round trip) and completes (one ``SET``) every event, as in
production, instead of answering duplicates. Same harness as ``run.py``: one uvicorn worker
pinned to core 0, wrk (one thread, 32 connections) on core 1; redis-server (started here, no
persistence) shares core 1 with wrk, as a Redis on another machine would not. Contenders are
measured interleaved, round after round; the median requests/s of each is reported.

    n  veba-sdk Knative ASGI, def handler, no idempotency store
    m  the same with the in-memory store (``Router(idempotency=True)``)
    r  the same with ``RedisIdempotencyStore`` on the local redis-server

Run: ``python benchmarks/http_load/idempotency.py`` (about 2 minutes), ``--quick``.
Needs wrk, taskset, redis-server and the ``redis`` extra.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _sample import FIXTURE  # noqa: E402
from run import (  # noqa: E402
    CONNECTIONS,
    LOAD_CORE,
    Contender,
    Measurement,
    Server,
    _die_with_parent,
    free_port,
    uvicorn_options,
    wrk_measurement,
)

LUA = HERE / "idempotency.lua"


def contenders(redis_url: str) -> list[Contender]:
    uv = [sys.executable, "-m", "uvicorn", *uvicorn_options()]
    env = {"VEBA_BENCH_REDIS_URL": redis_url}
    return [
        Contender("n", "Knative app, def handler, no store", [*uv, "veba_idempotency:app_none"]),
        Contender("m", "the same, in-memory store", [*uv, "veba_idempotency:app_memory"], env),
        Contender("r", "the same, Redis store (local)", [*uv, "veba_idempotency:app_redis"], env),
    ]


def run_wrk(url: str, template: Path, first_key: int, seconds: float) -> Measurement:
    argv = [
        "taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{round(seconds)}s",
        "--timeout", "5s", "-s", str(LUA), url, "--", str(template), str(first_key),
    ]  # fmt: skip
    return wrk_measurement(argv, seconds=seconds)


def start_redis(logdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        ["taskset", "-c", LOAD_CORE, "redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(logdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def dbsize(url: str) -> int:
    """How many keys the benchmark's Redis holds (one per event claimed)."""
    host, _, port = url.removeprefix("redis://").partition("/")[0].partition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"DBSIZE\r\n")
        reply = sock.recv(64)
    return int(reply.strip().lstrip(b":"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per contender, 2 rounds")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    rounds = args.rounds or (2 if args.quick else 5)
    for tool in ("wrk", "taskset", "redis-server"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="veba-idempotency-load-") as tmp:
        logdir = Path(tmp)
        data = json.loads(FIXTURE.read_text())
        data["Key"] = "__KEY__"
        template = logdir / "template.json"
        template.write_text(json.dumps(data).replace('"__KEY__"', "__KEY__"))
        ready = template.read_text().replace("__KEY__", "1").encode()
        redis, url = start_redis(logdir)
        chosen = contenders(url)
        servers = {c.key: Server(c, logdir) for c in chosen}
        samples: dict[str, list[Measurement]] = {c.key: [] for c in chosen}
        next_key = 1_000_000
        redis_requests = 1  # wait_ready's event
        try:
            for server in servers.values():
                server.wait_ready(ready)
            for number in range(1, rounds + 1):
                for contender in chosen:
                    server = servers[contender.key]
                    warm = run_wrk(server.url, template, next_key, 1.0)
                    next_key += 10_000_000
                    result = run_wrk(server.url, template, next_key, seconds)
                    next_key += 10_000_000
                    if contender.key == "r":
                        redis_requests += warm.requests + result.requests
                    if result.errors:
                        tail = server.tail()
                        raise RuntimeError(f"{contender.key}: {result.errors} errors: {tail}")
                    samples[contender.key].append(result)
                    print(
                        f"round {number}/{rounds} {contender.key}: {result.rps:8.0f} req/s "
                        f"p50 {result.p50_us / 1000:.2f} ms p99 {result.p99_us / 1000:.2f} ms",
                        file=sys.stderr, flush=True,
                    )  # fmt: skip
            # Every request was a new event: Redis holds one record for each, or the load
            # measured duplicates instead of claims.
            records = dbsize(url)
            print(f"redis records: {records:,} for {redis_requests:,} requests", file=sys.stderr)
            if records < redis_requests:
                raise RuntimeError(f"{records} records for {redis_requests} requests")
        finally:
            for server in servers.values():
                server.stop()
            redis.terminate()
            redis.wait(10)
    base = statistics.median(s.rps for s in samples["n"])
    print("| contender | requests/s (median) | vs no store | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for contender in chosen:
        runs = samples[contender.key]
        rps = statistics.median(s.rps for s in runs)
        p50 = statistics.median(s.p50_us for s in runs) / 1000
        p99 = statistics.median(s.p99_us for s in runs) / 1000
        print(
            f"| {contender.key}: {contender.label} | {rps:,.0f} | {rps / base:.2f} "
            f"| {p50:.2f} | {p99:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
