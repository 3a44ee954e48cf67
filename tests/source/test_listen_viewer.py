"""`veba listen --viewer`: the live feed of a running event source, from govmomi's simulator.

Without a module, each delivery to the RouterConfig's processor (a Knative destination URL,
here a receiver answering 503 once) is an event's record, a failed attempt included; with
a module, the records show its handlers. Read over the viewer's own server-sent events
stream (the page itself is driven in Chromium by tests/viewer/test_viewer.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from source_helpers import Poster, Receiver, Vcsim, wait_until

pytestmark = [pytest.mark.simulator, pytest.mark.slow]

BIN = Path(sys.executable).parent
VIEWER_TESTS = Path(__file__).resolve().parents[1] / "viewer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, sim: Vcsim, url: str) -> Path:
    path.write_text(
        f"""\
apiVersion: event-router.vmware.com/v1alpha1
kind: RouterConfig
metadata:
  name: viewer
eventProvider:
  type: vcenter
  name: vcsim
  vcenter:
    address: {sim.address}
    insecureSSL: true
    checkpoint: false
    auth:
      type: basic_auth
      basicAuth:
        username: {sim.username}
        password: {sim.password}
eventProcessor:
  type: knative
  name: fn
  knative:
    encoding: binary
    insecureSSL: false
    destination:
      uri: {url}
metricsProvider:
  type: default
  name: metrics
  default:
    bindAddress: ""
"""
    )
    return path


class Feed:
    """The viewer's SSE stream, read in a thread into ``records``."""

    def __init__(self, url: str) -> None:
        import threading

        self.records: list[dict[str, Any]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        try:
            with self._client.stream("GET", url) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.records.append(json.loads(line[len("data: ") :]))
        except httpx.HTTPError:
            return

    def named(self, name: str) -> list[dict[str, Any]]:
        return [r for r in list(self.records) if r["name"] == name]

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def listen(tmp_path: Path, vcsim: Vcsim, receiver: Receiver) -> Iterator[Any]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> str:
        port = free_port()
        config = write_config(tmp_path / "router-config.yaml", vcsim, receiver.url)
        log = (tmp_path / "listen.log").open("ab")
        process = subprocess.Popen(
            [str(BIN / "veba"), "listen", "--config", str(config), "--no-metrics",
             "--viewer", "--viewer-port", str(port), *extra],
            cwd=VIEWER_TESTS, stdout=log, stderr=log,
        )  # fmt: skip
        processes.append(process)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(base + "/", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, 30, "the viewer's server")
        return base

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_deliveries_to_the_processor_appear_with_their_outcome(
    listen: Any, poster: Poster, receiver: Receiver
) -> None:
    base = listen()
    page = httpx.get(base + "/", timeout=5)
    assert "veba event viewer" in page.text
    feed = Feed(base + "/events")
    try:
        time.sleep(1.0)  # the source is tailing: what comes next is ours
        receiver.script = [503]
        poster.post("enter")
        poster.post("exit")
        wait_until(lambda: len(feed.named("ExitMaintenanceModeEvent")) >= 1, 30, "records")
        entered = feed.named("EnteredMaintenanceModeEvent")
        assert [r["outcome"] for r in entered] == ["failed", "ok"]  # retried until accepted
        assert "503" in entered[0]["handlers"][0]["error"]
        assert entered[1]["handlers"][0]["name"].startswith("HttpTarget(")
        assert entered[1]["attributes"]["type"] == "com.vmware.event.router/event"
        assert entered[1]["data"]["Host"]["Name"]  # the event's data, as JSON
        (exited,) = feed.named("ExitMaintenanceModeEvent")
        assert exited["outcome"] == "ok"
    finally:
        feed.close()


def test_with_a_module_the_handlers_show(listen: Any, poster: Poster) -> None:
    base = listen("viewer_demo")
    feed = Feed(base + "/events")
    try:
        time.sleep(1.0)
        poster.post("enter")
        poster.post("vm-on")
        wait_until(lambda: len(feed.named("VmPoweredOnEvent")) >= 1, 30, "records")
        (entered,) = feed.named("EnteredMaintenanceModeEvent")
        assert [(h["name"], h["outcome"]) for h in entered["handlers"]] == [("sync_state", "ok")]
        (powered,) = feed.named("VmPoweredOnEvent")
        assert [h["name"] for h in powered["handlers"]] == ["audit"]
        assert powered["handlers"][0]["ms"] >= 20  # its asyncio.sleep(0.02)
    finally:
        feed.close()
