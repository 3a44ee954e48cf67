"""Helpers for the vCenter event source tests: the govmomi simulator on loopback, an event
poster using pyvmomi, a recording delivery target and a tiny HTTP receiver.

(A module with a unique name: ``from conftest import`` collides across test directories.)
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

ROOT = Path(__file__).resolve().parents[2]
VCSIM_DIR = ROOT / "tests" / "vcsim"
VCSIM_BIN = VCSIM_DIR / "bin" / "vcsim"


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


class Vcsim:
    """One simulator process; ``restart()`` brings it back on the same port (history lost)."""

    def __init__(self, binary: Path, port: int = 0, plain: bool = False) -> None:
        self.binary = binary
        self.plain = plain
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.cert_path = ""
        self.port = port
        self.start()

    def start(self) -> None:
        args = [str(self.binary), "-listen", f"127.0.0.1:{self.port}"]
        if self.plain:
            args.append("-http")
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.match(r"VCSIM_URL=(\S+)", line)
        if not match:
            self.stop()
            pytest.fail(f"vcsim did not start: {line!r}")
        self.url = match.group(1)
        if not self.plain:
            cert = self.process.stdout.readline()
            self.cert_path = cert.strip().partition("=")[2]
        self.port = urlsplit(self.url).port or 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def address(self) -> str:
        """The SDK URL without credentials (RouterConfig ``address``)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://127.0.0.1:{self.port}{parts.path}"

    @property
    def username(self) -> str:
        return unquote(urlsplit(self.url).username or "")

    @property
    def password(self) -> str:
        return unquote(urlsplit(self.url).password or "")


class Poster:
    """Injects events into the simulator with pyvmomi: PostEvent and real VM operations."""

    KINDS = ("enter", "exit", "eventex", "datastore", "vm-on", "extended")

    def __init__(self, sim: Vcsim) -> None:
        context = ssl._create_unverified_context()
        parts = urlsplit(sim.url)
        self.si = SmartConnect(
            protocol=parts.scheme,
            host="127.0.0.1",
            port=sim.port,
            user=sim.username,
            pwd=sim.password,
            sslContext=context,
        )
        content = self.si.content
        self.em = content.eventManager
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        self.host = view.view[0]
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine], True
        )
        self.vm = view.view[0]
        self.datacenter = content.rootFolder.childEntity[0]
        self.datastore = self.host.datastore[0]

    def close(self) -> None:
        Disconnect(self.si)

    def _base(self) -> dict[str, Any]:
        now = self.si.CurrentTime()
        return {
            "key": 0,
            "chainId": 0,
            "createdTime": now,
            "userName": "",
            "datacenter": vim.event.DatacenterEventArgument(
                name=self.datacenter.name, datacenter=self.datacenter
            ),
        }

    def event(self, kind: str, marker: str = "") -> Any:
        """A new (unposted) event of one of :attr:`KINDS`."""
        host = vim.event.HostEventArgument(name=self.host.name, host=self.host)
        base = self._base()
        if kind == "enter":
            return vim.event.EnteredMaintenanceModeEvent(host=host, **base)
        if kind == "exit":
            return vim.event.ExitMaintenanceModeEvent(host=host, **base)
        if kind == "eventex":
            return vim.event.EventEx(
                eventTypeId=marker or "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent",
                severity="info",
                message=marker,
                **base,
            )
        if kind == "datastore":
            ds = vim.event.DatastoreEventArgument(
                name=self.datastore.name, datastore=self.datastore
            )
            return vim.event.DatastoreRenamedEvent(
                datastore=ds, oldName="a", newName="b", ds=ds, **base
            )
        if kind == "vm-on":
            vm = vim.event.VmEventArgument(name=self.vm.name, vm=self.vm)
            return vim.event.VmPoweredOnEvent(vm=vm, host=host, template=False, **base)
        if kind == "extended":
            return vim.event.ExtendedEvent(
                eventTypeId=marker or "com.vmware.example.extended",
                managedObject=self.host,
                data=[vim.event.ExtendedEvent.Pair(key="k", value="v")],
                **base,
            )
        raise ValueError(kind)

    def post(self, kind: str, marker: str = "") -> None:
        self.em.PostEvent(self.event(kind, marker))

    def power_cycle(self) -> None:
        """Real operations: power the VM off and on (4 events in the simulator)."""
        from pyVim.task import WaitForTask

        WaitForTask(self.vm.PowerOffVM_Task())
        WaitForTask(self.vm.PowerOnVM_Task())


class Sink:
    """A plain-callable delivery target recording every event (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.received_at: list[float] = []
        self.fail_next = 0
        self.attempts = 0

    def __call__(self, attributes: dict[str, Any], data: Any) -> None:
        with self.lock:
            self.attempts += 1
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("target refused")
            self.events.append((attributes, data))
            self.received_at.append(time.monotonic())

    def keys(self) -> list[int]:
        with self.lock:
            return [int(data["Key"]) for _, data in self.events]

    def names(self) -> list[str]:
        with self.lock:
            return [str(attrs.get("subject") or attrs["type"]) for attrs, _ in self.events]


class Receiver:
    """A real HTTP server on 127.0.0.1 that records CloudEvents POSTed to it.

    ``script`` lists the status codes of the next answers (then 200); ``seen`` is the
    receiving side's dedupe set of vCenter event keys (what an idempotency store does).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.script: list[int] = []
        self.handled: list[int] = []
        self.type_ids: list[str] = []
        self.seen: set[int] = set()
        self.deliveries = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append((headers, body, status))
                    if status == 200:
                        receiver.deliveries += 1
                        data = receiver.data_of(headers, body)
                        key = int(data["Key"])
                        if key not in receiver.seen:
                            receiver.seen.add(key)
                            receiver.handled.append(key)
                            receiver.type_ids.append(str(data.get("EventTypeId", "")))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def data_of(headers: dict[str, str], body: bytes) -> dict[str, Any]:
        document = json.loads(body)
        if "cloudevents" in headers.get("content-type", ""):
            document = document["data"]
        assert isinstance(document, dict)
        return document

    def markers(self, prefix: str) -> list[str]:
        """EventTypeIds starting with ``prefix`` among the events handled (deduplicated)."""
        with self.lock:
            return [t for t in self.type_ids if t.startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
