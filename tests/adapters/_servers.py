"""Real servers on loopback for the adapter tests: start one as a subprocess, wait, stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"
PYTHON = sys.executable
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a server subprocess.

    ``PYTHONPATH`` is ``extra``'s, then the caller's, then our sources and this directory.
    """
    extra = dict(extra or {})
    env = dict(os.environ)
    paths = (extra.pop("PYTHONPATH", ""), env.get("PYTHONPATH", ""), str(SRC), str(HERE))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.update(extra)
    return env


def uvicorn_argv(app: str, port: int) -> list[str]:
    """uvicorn serving ``app`` (``module:attr`` of this directory) on loopback at ``port``."""
    return [
        PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--app-dir", str(HERE),
    ]  # fmt: skip


def gunicorn_argv(app: str, port: int, *options: str) -> list[str]:
    """gunicorn serving ``app`` (``module:attr`` of this directory), 4 threads, on loopback."""
    return [
        PYTHON, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", *options,
        "--threads", "4", "--log-level", "warning", "--chdir", str(HERE),
    ]  # fmt: skip


@contextmanager
def running(
    argv: Sequence[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = HERE,
    ready_path: str | None = "/health/readiness",
    timeout: float = 30.0,
) -> Iterator[str]:
    """Run a server until the block ends; yields its base URL once ``ready_path`` answers 200
    (or, with ``ready_path=None``, once the port accepts connections)."""
    log = (Path(os.environ.get("TMPDIR", "/tmp")) / f"veba-server-{port}.log").open("w+b")
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=server_env(env), stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{argv[0]} exited: {log.read().decode(errors='replace')}")
            if ready_path is None:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
            else:
                try:
                    if httpx.get(base + ready_path, timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start on port {port}")
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
