"""HTTP load: veba-sdk's Knative app against the ceiling and the other ways to serve a function.

Every contender serves the same work: a binary-mode VSphereSource ``EnteredMaintenanceModeEvent``
CloudEvent is decoded and a handler reads the host's name. ``wrk`` (one thread, 32 connections,
``cloudevent.lua``) loads one server at a time over loopback; the server runs with one worker
pinned to core 0 (``taskset -c 0``), wrk on core 1. Contenders are measured interleaved, round
after round, and the median requests/s of each is reported with ratios against the targets of
issue 4 (``docs/performance.md``, section "HTTP load").

    a  bare ASGI app answering 204 under uvicorn (the ceiling)
    b  veba-sdk Knative ASGI app under uvicorn, ``async def`` handler
    c  the same with a plain ``def`` handler (worker thread, the default)
    d  functions-framework 3.x default server (gunicorn) with a hand-written function
    e  functions-framework ``--asgi`` (gunicorn + uvicorn worker)
    f  veba-sdk's gcf adapter under functions-framework's default server
    g  Knative func-python (cloudevents 2.x, hypercorn) with an equivalent function
    h  Flask + cloudevents like VEBA's kn-py-echo sample, gunicorn with 1 sync worker
    i  (c) with the garbage collector left at CPython's default (``gc_threshold=None``)

Memory: a fresh (c) server's resident memory (VmRSS) after 10,000 warm-up events and after
100,000 more.

Run: ``python benchmarks/http_load/run.py`` (about 6 minutes, writes docs/performance.md),
``--quick`` (3 s per contender, 2 rounds, smaller memory run, prints only). Needs wrk
(Debian/Ubuntu: ``apt-get install -y wrk``), taskset (util-linux) and two cores. Contender g
needs a venv with func-python and cloudevents 2.x: ``--ce2-python`` (default
``$VEBA_CE2_PYTHON`` or /work/venv-ce2/bin/python); it is skipped with a note without one.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import http.client
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
LUA = HERE / "cloudevent.lua"
SERVER_CORE = "0"
LOAD_CORE = "1"
CONNECTIONS = 32
WRK_INSTALL = "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk"

sys.path.insert(0, str(HERE.parent))

from _sample import FIXTURE, HEADERS  # noqa: E402
from _timing import machine, table  # noqa: E402

#: (ratio name, numerator, denominator, target, "min" or "max overhead")
TARGETS = [
    ("b/a: Knative app, async handler / bare ASGI", "b", "a", 0.6, "min"),
    ("c/a: Knative app, def handler / bare ASGI", "c", "a", 0.4, "min"),
    ("c/d: def handler / functions-framework", "c", "d", 5.0, "min"),
    ("c/e: def handler / functions-framework --asgi", "c", "e", 2.5, "min"),
    ("c/h: def handler / Flask kn-py-echo sample", "c", "h", 5.0, "min"),
    ("c/g: def handler / func-python", "c", "g", 5.0, "min"),
    ("f/d: gcf adapter overhead over a hand-written function", "f", "d", 0.10, "overhead"),
]


@dataclass
class Contender:
    """One way of serving the event: the command line of its server."""

    key: str
    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = (200, 204)


@dataclass
class Measurement:
    """One wrk run."""

    rps: float
    requests: int
    p50_us: int
    p99_us: int
    errors: int


def _importable(name: str, speedups: Path | None) -> bool:
    if speedups is not None and (speedups / name).is_dir():
        return True
    return importlib.util.find_spec(name) is not None


def uvicorn_options(speedups: Path | None = None) -> list[str]:
    """The same uvicorn options for every uvicorn contender: httptools/uvloop only if present.

    functions-framework's ``--asgi`` worker (uvicorn-worker) picks them up by itself then.
    """
    http_impl = "httptools" if _importable("httptools", speedups) else "h11"
    loop = "uvloop" if _importable("uvloop", speedups) else "asyncio"
    return [
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--http",
        http_impl,
        "--loop",
        loop,
        "--app-dir",
        str(APPS),
    ]


def ce2_python(option: str | None) -> tuple[str | None, str]:
    """The cloudevents-2.x interpreter with func-python, or ``None`` and why not."""
    candidate = option or os.environ.get("VEBA_CE2_PYTHON") or "/work/venv-ce2/bin/python"
    if not Path(candidate).exists():
        return None, f"no interpreter at {candidate} (--ce2-python)"
    probe = subprocess.run(
        [candidate, "-c", "import func_python.cloudevent, cloudevents.core"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return None, f"{candidate} cannot import func_python / cloudevents 2.x"
    return candidate, ""


def contenders(
    ce2: str | None, speedups: Path | None = None, baseline: Path | None = None
) -> list[Contender]:
    """Every contender's server command (the port is appended per run).

    ``speedups``: a directory holding httptools and uvloop (``pip install --target DIR
    httptools uvloop``), put on the ``PYTHONPATH`` of every contender of this venv, so the
    venv itself stays as it is. ``baseline``: the ``src`` directory of another veba-sdk tree
    (``git worktree add /tmp/base REV``), whose Knative app serves contenders B and C, (b) and
    (c) of that tree, measured in the same rounds.
    """
    py = sys.executable
    uv = [py, "-m", "uvicorn", *uvicorn_options(speedups)]
    ff = [py, "-m", "functions_framework", "--signature-type", "cloudevent", "--target", "handle"]
    # functions-framework's default server is gunicorn with WORKERS=1 and THREADS=4*cores.
    ff_env = {"WORKERS": "1"}
    result = [
        Contender("a", "bare ASGI app, uvicorn (ceiling)", [*uv, "bare:app"], expect=(204,)),
        Contender(
            "b",
            "veba-sdk Knative ASGI, async def handler",
            [*uv, "veba_knative:app_async"],
            expect=(204,),
        ),
        Contender(
            "c",
            "veba-sdk Knative ASGI, def handler (thread)",
            [*uv, "veba_knative:app_sync"],
            expect=(204,),
        ),
        Contender(
            "d",
            "functions-framework default, hand-written",
            [*ff, "--source", str(APPS / "ff_plain.py")],
            ff_env,
        ),
        Contender(
            "e",
            "functions-framework --asgi, hand-written",
            [*ff, "--asgi", "--source", str(APPS / "ff_plain.py")],
            ff_env,
        ),
        Contender(
            "f",
            "veba-sdk gcf adapter, functions-framework default",
            [*ff, "--source", str(APPS / "ff_veba.py")],
            ff_env,
        ),
    ]
    result.append(
        Contender(
            "i",
            "veba-sdk Knative ASGI, def handler, gc_threshold=None",
            [*uv, "veba_knative:app_sync_default_gc"],
            expect=(204,),
        )
    )
    if ce2 is not None:
        result.append(
            Contender(
                "g",
                "func-python (hypercorn), equivalent function",
                [ce2, str(APPS / "func_python_main.py")],
                expect=(204,),
            )
        )
    result.append(
        Contender(
            "h",
            "Flask + cloudevents (kn-py-echo), gunicorn 1 sync worker",
            [
                py,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--chdir",
                str(APPS),
                "--log-level",
                "warning",
                "flask_echo:app",
            ],
            expect=(204,),
        )
    )
    if baseline is not None:
        for key, app in (("B", "app_async"), ("C", "app_sync")):
            label = f"({key.lower()}) served by the baseline tree {baseline}"
            result.append(Contender(key, label, [*uv, f"veba_knative:{app}"], expect=(204,)))
    path = os.pathsep.join(
        filter(None, [str(speedups) if speedups else "", os.environ.get("PYTHONPATH", "")])
    )
    for contender in result:
        if contender.key == "g":
            continue
        own = [str(baseline)] if contender.key in ("B", "C") else []
        joined = os.pathsep.join(filter(None, [*own, path]))
        if joined:
            contender.env = {**contender.env, "PYTHONPATH": joined}
    return result


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the harness dies (Linux prctl), so a killed
    or timed-out run leaves no server or wrk behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _argv_with_port(contender: Contender, port: int) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, **contender.env, "PYTHONUNBUFFERED": "1"}
    argv = list(contender.argv)
    if contender.key == "g":
        env["LISTEN_ADDRESS"] = f"127.0.0.1:{port}"
    elif contender.key == "h":
        argv[argv.index("--workers") : argv.index("--workers")] = ["--bind", f"127.0.0.1:{port}"]
    else:
        argv += ["--host", "127.0.0.1", "--port", str(port)]
    return ["taskset", "-c", SERVER_CORE, *argv], env


class Server:
    """A contender's server process, pinned to the server core, in its own process group."""

    def __init__(self, contender: Contender, logdir: Path) -> None:
        self.contender = contender
        self.port = free_port()
        argv, env = _argv_with_port(contender, self.port)
        self.log = logdir / f"server-{contender.key}-{self.port}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=APPS,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.url = f"http://127.0.0.1:{self.port}/"

    def wait_ready(self, body: bytes, timeout: float = 60.0) -> None:
        """Poll with one event until the expected status comes back."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.describe()} exited: {self.tail()}")
            try:
                status = post_event(self.port, body)
            except OSError as exc:
                last = str(exc)
                time.sleep(0.1)
                continue
            if status in self.contender.expect:
                return
            raise RuntimeError(f"{self.describe()} answered {status}: {self.tail()}")
        raise RuntimeError(f"{self.describe()} not ready after {timeout}s ({last}): {self.tail()}")

    def describe(self) -> str:
        return f"contender {self.contender.key} ({self.contender.label})"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:]

    def rss_kib(self) -> int:
        """VmRSS of the server process (uvicorn runs in the process taskset exec'd)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL if it lingers."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def post_event(port: int, body: bytes) -> int:
    """POST one event over a fresh connection; the status code."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def run_wrk(url: str, body_file: Path, *, seconds: float) -> Measurement:
    """One wrk run on the load core; parses the ``WRK_JSON`` line of ``cloudevent.lua``."""
    duration = f"-d{max(1, round(seconds))}s"
    argv = [
        "taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", duration,
        "--timeout", "5s", "-s", str(LUA), url, "--", str(body_file),
    ]  # fmt: skip
    return wrk_measurement(argv, seconds=seconds)


def wrk_measurement(argv: list[str], *, seconds: float) -> Measurement:
    """Run a wrk command line whose script prints a ``WRK_JSON`` line; what it measured."""
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
        preexec_fn=_die_with_parent,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-800:]} {done.stderr}")
    data = json.loads(line[len("WRK_JSON ") :])
    errors = sum(
        data[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return Measurement(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        requests=data["requests"],
        p50_us=data["p50_us"],
        p99_us=data["p99_us"],
        errors=errors,
    )


def send_events(url: str, body_file: Path, count: int) -> int:
    """Load until at least ``count`` events were answered (wrk runs of 1-5 s); the number."""
    sent = 0
    rate = 0.0
    while sent < count:
        seconds = 1.0 if rate == 0 else min(5.0, max(1.0, (count - sent) / rate))
        result = run_wrk(url, body_file, seconds=seconds)
        if result.errors or result.requests == 0:
            raise RuntimeError(f"errors while sending events: {result}")
        sent += result.requests
        rate = result.rps
    return sent


@contextlib.contextmanager
def servers(chosen: list[Contender], logdir: Path, body: bytes) -> Iterator[dict[str, Server]]:
    """Start every chosen contender's server (all idle but the one under load)."""
    started: dict[str, Server] = {}
    try:
        for contender in chosen:
            started[contender.key] = Server(contender, logdir)
        for server in started.values():
            server.wait_ready(body)
        yield started
    finally:
        for server in started.values():
            server.stop()


def measure(
    chosen: list[Contender],
    body_file: Path,
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    logdir: Path,
    log: bool,
) -> dict[str, list[Measurement]]:
    """Interleaved rounds: each round loads a, b, c, ... once; a warm-up run precedes each."""
    body = body_file.read_bytes()
    samples: dict[str, list[Measurement]] = {c.key: [] for c in chosen}
    with servers(chosen, logdir, body) as running:
        for number in range(1, rounds + 1):
            for contender in chosen:
                server = running[contender.key]
                run_wrk(server.url, body_file, seconds=warmup)
                result = run_wrk(server.url, body_file, seconds=seconds)
                if result.errors:
                    raise RuntimeError(
                        f"{server.describe()}: {result.errors} errors/non-2xx answers under "
                        f"load: {server.tail()}"
                    )
                samples[contender.key].append(result)
                if log:
                    print(
                        f"round {number}/{rounds} {contender.key}: {result.rps:9.0f} req/s "
                        f"p50 {result.p50_us / 1000:.2f} ms p99 {result.p99_us / 1000:.2f} ms",
                        file=sys.stderr,
                        flush=True,
                    )
    return samples


def memory(
    contender: Contender, body_file: Path, *, warm: int, events: int, logdir: Path
) -> tuple[int, int, int, int]:
    """A fresh server's RSS (KiB) after ``warm`` events and after ``events`` more.

    Returns (RSS after warm-up, RSS after the rest, warm-up events, further events); the
    counts are at least the ones asked for (wrk runs by time, so the last run overshoots).
    """
    server = Server(contender, logdir)
    try:
        server.wait_ready(body_file.read_bytes())
        warmed = send_events(server.url, body_file, warm)
        time.sleep(0.5)
        before = server.rss_kib()
        more = send_events(server.url, body_file, events)
        time.sleep(0.5)
        after = server.rss_kib()
        return before, after, warmed, more
    finally:
        server.stop()


def versions(ce2: str | None) -> str:
    """The servers' versions, one line."""
    names = ["uvicorn", "functions-framework", "gunicorn", "flask", "cloudevents"]
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} missing")
    if ce2 is not None:
        probe = subprocess.run(
            [
                ce2,
                "-c",
                "import importlib.metadata as m; print(' '.join(f'{n} '"
                "+m.version(n) for n in ('func-python','hypercorn','cloudevents')))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        names_ce2 = probe.stdout.split()
        pairs = [f"{a} {b}" for a, b in zip(names_ce2[::2], names_ce2[1::2], strict=True)]
        parts.append("func venv: " + ", ".join(pairs))
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    parts.append((wrk.stdout or wrk.stderr).split("Copyright")[0].strip())
    return ", ".join(parts)


def report(
    chosen: list[Contender],
    samples: dict[str, list[Measurement]],
    mem: tuple[int, int, int, int] | None,
    *,
    args: argparse.Namespace,
    ce2: str | None,
    ce2_note: str,
) -> tuple[str, bool]:
    """The Markdown section and whether every measured target was met."""
    median = {k: statistics.median(m.rps for m in v) for k, v in samples.items() if v}
    opts = uvicorn_options(args.speedups)
    http_impl, loop = opts[opts.index("--http") + 1], opts[opts.index("--loop") + 1]
    speedups_note = (
        ", from a directory on their `PYTHONPATH` (`--speedups DIR` or `VEBA_BENCH_SPEEDUPS`; "
        "made with `pip install --target DIR httptools uvloop`), not installed in the venv"
        if args.speedups is not None
        else ""
    )
    if http_impl == "h11":
        speedups_note += (
            ". With the pure-Python h11 parser the server's own cost dominates: the ceiling "
            "is low, so ratios to it are kind and ratios to other servers are capped"
        )
    rows = []
    for contender in chosen:
        runs = samples[contender.key]
        p50 = statistics.median(m.p50_us for m in runs) / 1000
        p99 = statistics.median(m.p99_us for m in runs) / 1000
        rounds = " / ".join(f"{m.rps:,.0f}" for m in runs)
        rows.append(
            f"| {contender.key} | {contender.label} | {median[contender.key]:,.0f} | "
            f"{median[contender.key] / median['a']:.2f}x | {p50:.2f} / {p99:.2f} | {rounds} |"
            if "a" in median
            else f"| {contender.key} | {contender.label} | {median[contender.key]:,.0f} | - | "
            f"{p50:.2f} / {p99:.2f} | {rounds} |"
        )
    all_met = True
    target_rows = []
    for name, num, den, target, kind in TARGETS:
        if num not in median or den not in median:
            missing = den if den not in median else num
            why = ce2_note if missing == "g" and ce2_note else "not measured in this run"
            target_rows.append((name, "-", _target_text(target, kind), f"not run: {why}"))
            continue
        ratio = median[num] / median[den]
        if kind == "overhead":
            value = median[den] / median[num] - 1  # extra time per request
            met = value <= target
            shown = f"{value:+.1%}"
        else:
            met = ratio >= target
            shown = f"{ratio:.2f}x"
        all_met = all_met and met
        target_rows.append((name, shown, _target_text(target, kind), "met" if met else "MISSED"))
    lines = [
        "## HTTP load",
        "",
        f"Measured on {machine()}. `python benchmarks/http_load/run.py"
        f"{' --quick' if args.quick else ''}{' --speedups DIR' if args.speedups else ''}`: "
        f"{args.rounds} interleaved rounds of {args.seconds:g} s per contender (each after a "
        f"{args.warmup:g} s warm-up), medians. Load: wrk -t1 -c{CONNECTIONS} on core "
        f"{LOAD_CORE} with `benchmarks/http_load/cloudevent.lua` (binary-mode VSphereSource "
        f"`EnteredMaintenanceModeEvent`, 785-byte body); every server has one worker pinned to "
        f"core {SERVER_CORE}, loopback only; every handler reads the host's name. The uvicorn "
        f"contenders run with `--http {http_impl} --loop {loop}` (functions-framework's "
        f"`--asgi` worker picks the same by itself){speedups_note}.",
        "",
        f"Versions: {versions(ce2)}.",
        "",
        "| | server | requests/s | of a | latency p50 / p99 ms | rounds |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        table(target_rows, ("ratio", "measured", "target", "")),
    ]
    if mem is not None:
        before, after, warmed, more = mem
        delta = (after - before) / 1024
        met = abs(delta) <= 5.0
        all_met = all_met and met
        lines += [
            "",
            f"Memory of a fresh (c) server (VmRSS): {before / 1024:.1f} MiB after "
            f"{warmed:,} warm-up events, {after / 1024:.1f} MiB after {more:,} more "
            f"({delta:+.1f} MiB; target within 5 MiB: {'met' if met else 'MISSED'}).",
        ]
    if ce2_note and "g" not in median:
        lines += ["", f"func-python (g) was not run: {ce2_note}."]
    if {"a", "b", "c"} <= median.keys():
        ceiling, on_loop, in_thread = (1e6 / median[k] for k in "abc")
        lines += [
            "",
            f"Per request (1 / requests/s, one core): the server itself {ceiling:.1f} us; the "
            f"Knative app's decoding, dispatch and answer add {on_loop - ceiling:.1f} us with an "
            f"`async def` handler; the hop to a worker thread adds {in_thread - on_loop:.1f} us "
            f"more. b/a >= 0.6 allows {ceiling / 0.6 - ceiling:.1f} us for the app, c/a >= 0.4 "
            f"{ceiling / 0.4 - ceiling:.1f} us for app and hop.",
        ]
    if {"b", "B", "c", "C"} <= median.keys():
        lines += [
            "",
            f"Against the baseline tree, in the same rounds: b/B {median['b'] / median['B']:.2f}x "
            f"(async handler), c/C {median['c'] / median['C']:.2f}x (def handler); per request "
            f"{1e6 / median['b'] - 1e6 / median['B']:+.1f} us and "
            f"{1e6 / median['c'] - 1e6 / median['C']:+.1f} us.",
        ]
    if {"c", "i"} <= median.keys():
        default_gc = gc.get_threshold()[0]  # the servers run this same interpreter
        lines += [
            "",
            "The Knative app serves with the garbage collector's youngest-generation threshold "
            "at 10,000 (`knative.asgi(..., gc_threshold=)`, set at lifespan startup when it is "
            f"CPython's default, {default_gc} here). Left at {default_gc} (i), the def-handler "
            "server does "
            f"{median['i']:,.0f} requests/s, {median['c'] / median['i'] - 1:+.0%} for the "
            "setting: requests waiting for the handler's thread keep the collector busy.",
        ]
    return "\n".join(lines) + "\n", all_met


def _target_text(target: float, kind: str) -> str:
    return f"<= {target:.0%}" if kind == "overhead" else f">= {target:g}x"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per contender, 2 rounds")
    parser.add_argument("--only", default="", help="contender keys to run, e.g. 'a,c'")
    parser.add_argument("--seconds", type=float, help="measured seconds per contender")
    parser.add_argument("--warmup", type=float, help="warm-up seconds before each run")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--memory-warm", type=int, help="warm-up events of the memory run")
    parser.add_argument(
        "--memory-events", type=int, help="events after warm-up of the memory run (0: skip)"
    )
    parser.add_argument("--ce2-python", help="python of a venv with func-python, cloudevents 2")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write docs/performance.md (default: yes, except with --quick)",
    )
    parser.add_argument(
        "--speedups",
        type=Path,
        default=os.environ.get("VEBA_BENCH_SPEEDUPS") or None,
        help="directory with httptools and uvloop for the uvicorn servers "
        "(pip install --target DIR httptools uvloop)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="src directory of an earlier tree: its Knative app runs as contenders B and C",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (3.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    args.rounds = args.rounds or (2 if quick else 3)
    if args.memory_warm is None:
        args.memory_warm = 2_000 if quick else 10_000
    if args.memory_events is None:
        args.memory_events = 20_000 if quick else 100_000
    if args.write is None:
        args.write = not quick
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_INSTALL, file=sys.stderr)
        return 2
    if shutil.which("taskset") is None:
        print("taskset is not installed: apt-get install -y util-linux", file=sys.stderr)
        return 2
    if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        print("needs cores 0 and 1 (server and load generator)", file=sys.stderr)
        return 2
    ce2, ce2_note = ce2_python(args.ce2_python)
    if args.speedups is not None and not args.speedups.is_dir():
        print(f"--speedups {args.speedups}: no such directory", file=sys.stderr)
        return 2
    if args.baseline_src is not None and not (args.baseline_src / "veba_sdk").is_dir():
        print(f"--baseline-src {args.baseline_src}: no veba_sdk package there", file=sys.stderr)
        return 2
    chosen = contenders(ce2, args.speedups, args.baseline_src)
    if args.only:
        keys = {k.strip() for k in args.only.split(",") if k.strip()}
        unknown = keys - {c.key for c in contenders("python", baseline=Path("."))}
        if unknown:
            print(f"unknown contenders: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        chosen = [c for c in chosen if c.key in keys]
    with tempfile.TemporaryDirectory(prefix="veba-http-load-") as tmp:
        logdir = Path(tmp)
        body_file = logdir / "body.json"
        body_file.write_bytes(json.dumps(json.loads(FIXTURE.read_text())).encode())
        samples = measure(
            chosen,
            body_file,
            rounds=args.rounds,
            seconds=args.seconds,
            warmup=args.warmup,
            logdir=logdir,
            log=True,
        )
        mem = None
        c = next((x for x in chosen if x.key == "c"), None)
        if args.memory_events > 0 and c is not None:
            print("memory run ...", file=sys.stderr, flush=True)
            mem = memory(
                c, body_file, warm=args.memory_warm, events=args.memory_events, logdir=logdir
            )
    markdown, all_met = report(chosen, samples, mem, args=args, ce2=ce2, ce2_note=ce2_note)
    print(markdown)
    if args.json:
        raw = {k: [vars(m) for m in v] for k, v in samples.items()}
        args.json.write_text(json.dumps({"samples": raw, "memory_kib": mem}, indent=2))
    if args.write:
        from _report import write_section

        write_section("HTTP load", markdown)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
