"""Real parts for the idempotency tests: a redis-server, moto's DynamoDB, app replicas."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"
PYTHON = sys.executable
TABLE = "veba-idempotency"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: our sources and this directory importable."""
    env = dict(os.environ)
    paths = (str(SRC), str(HERE), env.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.update(AWS_ENV)
    env.update(extra or {})
    return env


class RedisServer:
    """A redis-server of our own on loopback, persisting to an append-only file so a
    restart keeps its records (what a production Redis with AOF does)."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.directory / "redis.log").open("ab") as log:  # the child keeps its copy
            self.process = self._popen(log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError((self.directory / "redis.log").read_text())
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING in 15 s")

    def _popen(self, log: Any) -> subprocess.Popen[bytes]:
        argv = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--dir", str(self.directory), "--daemonize", "no",
        ]  # fmt: skip
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # redis flushes its AOF and exits
            process.wait(timeout=15)


class Replica:
    """One process serving an app module with uvicorn on loopback."""

    def __init__(self, app: str, env: Mapping[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}/"
        argv = [
            PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1",
            "--port", str(self.port), "--log-level", "warning", "--app-dir", str(HERE),
        ]  # fmt: skip
        with log.open("ab") as out:  # the child keeps its copy
            self.process = subprocess.Popen(
                argv, env=child_env(env), stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, client: Any, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if client.get(self.url + "health/readiness").status_code == 200:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"replica on {self.port} not ready: {self.log.read_text()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def lines(path: Path) -> list[str]:
    """The lines of a log file the handlers append to (none yet: empty)."""
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []
