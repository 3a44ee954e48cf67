"""``veba serve --viewer`` with the openfaas and gcf adapters (waitress).

The viewer is a uvicorn server of its own on ``127.0.0.1:--viewer-port`` (default: the
function's port + 1), fed by an observer on the function's router: an event posted to the
function's port with an HTTP client shows up, with its handlers' outcomes, on the viewer's
server-sent events stream. More pages than the function has waitress threads stay open while
events are posted, and the function still answers: open pages hold no worker.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "adapters"))

from _servers import BIN, PYTHON, free_port, running  # noqa: E402

from veba_sdk.testing import make_event, send  # noqa: E402

#: More open pages than waitress has threads (4 for openfaas; THREADS=2 for gcf here).
PAGES = 6


class Feed:
    """One viewer page's SSE stream, read in a thread into ``records``."""

    def __init__(self, url: str) -> None:
        self.records: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        try:
            with self._client.stream("GET", url) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                self.connected.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.records.append(json.loads(line[len("data: ") :]))
        except httpx.HTTPError:
            return

    def wait_for(self, name: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in list(self.records):
                if record["name"] == name:
                    return record
            time.sleep(0.05)
        raise AssertionError(f"{name} not on the viewer's stream within {timeout} s")

    def close(self) -> None:
        self._client.close()
        self._thread.join(5)


def port_pair() -> int:
    """A free port whose next port is free too (for the default --viewer-port)."""
    for _ in range(50):
        port = free_port()
        if port >= 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports")


@pytest.mark.parametrize(
    ("adapter", "default_port"),
    [("openfaas", True), ("gcf", False)],
)
def test_events_posted_to_the_function_appear_on_the_viewers_own_port(
    adapter: str, default_port: bool
) -> None:
    if adapter == "gcf":
        pytest.importorskip("functions_framework")
    port = port_pair() if default_port else free_port()
    viewer_port = port + 1 if default_port else free_port()
    argv = [
        str(BIN / "veba"), "serve", "viewer_demo", "--adapter", adapter, "--port", str(port),
        "--viewer", "--log-level", "ERROR",
    ]  # fmt: skip
    if not default_port:
        argv += ["--viewer-port", str(viewer_port)]
    platform = "openfaas" if adapter == "openfaas" else "knative"
    env = {"PYTHONPATH": str(HERE), "THREADS": "2"}
    with running(argv, port, cwd=HERE, env=env, ready_path=None, timeout=60.0) as base:
        viewer = f"http://127.0.0.1:{viewer_port}"
        page = httpx.get(viewer + "/", timeout=10.0)
        assert page.status_code == 200
        assert "veba event viewer" in page.text
        # Not on the function's server: that one is the function's alone.
        assert httpx.get(base + "/_veba/", timeout=10.0).status_code != 200
        feeds = [Feed(viewer + "/events") for _ in range(PAGES)]
        try:
            for feed in feeds:
                assert feed.connected.wait(10), "the viewer's stream did not open"
            with httpx.Client(timeout=10.0) as client:
                ok = send(
                    base + "/",
                    make_event("EnteredMaintenanceModeEvent", host={"name": "esx01"}),
                    platform=platform,
                    client=client,
                )
                assert ok.status_code // 100 == 2, ok.text
                failed = send(
                    base + "/",
                    make_event("HostConnectionLostEvent"),
                    platform=platform,
                    client=client,
                )
                assert failed.status_code == 500, failed.text
            for feed in feeds:  # every open page gets both
                record = feed.wait_for("EnteredMaintenanceModeEvent")
                assert record["outcome"] == "ok"
                assert [h["name"] for h in record["handlers"]] == ["sync_state"]
                assert record["data"]["Host"]["Name"] == "esx01"
                broken = feed.wait_for("HostConnectionLostEvent")
                assert broken["outcome"] == "failed"
                (handler,) = broken["handlers"]
                assert handler["outcome"] == "failed"
                assert "pager gateway answered 503" in handler["error"]
        finally:
            for feed in feeds:
                feed.close()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"veba-server-{port}.log"
    assert f"veba: event viewer on http://127.0.0.1:{viewer_port}/" in log.read_text()


def test_the_viewer_answers_loopback_names_only() -> None:
    """A page whose name was rebound to 127.0.0.1 (DNS rebinding) reads nothing."""
    port, viewer_port = free_port(), free_port()
    argv = [
        str(BIN / "veba"), "serve", "viewer_demo", "--adapter", "openfaas", "--port", str(port),
        "--viewer", "--viewer-port", str(viewer_port),
    ]  # fmt: skip
    with running(argv, port, cwd=HERE, env={"PYTHONPATH": str(HERE)}, ready_path=None):
        viewer = f"http://127.0.0.1:{viewer_port}"
        refused = httpx.get(viewer + "/events", headers={"Host": "evil.example"}, timeout=10.0)
        assert refused.status_code == 403


def run_cli(*args: str, before: str = "") -> subprocess.CompletedProcess[str]:
    code = (
        f"{before}\n"
        "from click.testing import CliRunner\n"
        "from veba_sdk.cli._main import cli\n"
        f"result = CliRunner().invoke(cli, {list(args)!r})\n"
        "print(result.output)\n"
        "raise SystemExit(result.exit_code)\n"
    )
    return subprocess.run(
        [PYTHON, "-c", code], cwd=HERE, capture_output=True, text=True, timeout=60, check=False
    )


def test_without_uvicorn_the_flag_names_the_extra() -> None:
    done = run_cli(
        "serve", "viewer_demo", "--adapter", "openfaas", "--viewer",
        before="import sys; sys.modules['uvicorn'] = None",
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "veba serve --viewer --adapter openfaas needs uvicorn" in text
    assert "pip install 'veba-sdk[cli]'" in text


def test_a_taken_viewer_port_is_an_error_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        argv = [
            str(BIN / "veba"), "serve", "viewer_demo", "--adapter", "openfaas",
            "--port", str(free_port()), "--viewer", "--viewer-port", str(busy),
        ]  # fmt: skip
        done = subprocess.run(
            argv,
            cwd=HERE,
            env={**os.environ, "PYTHONPATH": str(HERE)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"veba: error: --viewer-port {busy}: the event viewer could not listen on "
        f"127.0.0.1:{busy}: Address already in use\n"
    )
