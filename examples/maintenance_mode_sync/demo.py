"""The flagship, end to end on loopback: no vCenter, no vROps, no cluster needed.

1. serves the in-process vROps stand-in (``FakeVrops``) with a few hosts, on uvicorn;
2. starts the function (``handler.py`` behind the Knative adapter) in its own uvicorn process;
3. sends ``EnteredMaintenanceModeEvent`` then ``ExitMaintenanceModeEvent`` for one host, as
   the event router sends them and as the VSphereSource sends them;
4. prints the host's vROps state after each event (STARTED -> MAINTAINED_MANUAL -> STARTED);
5. stops everything.

Run: ``bash scripts/demo.sh`` (or ``python -m examples.maintenance_mode_sync.demo``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from veba_sdk.testing import FakeVrops, make_event, to_cloudevent

ROOT = Path(__file__).resolve().parents[2]
VCENTER = "https://vcsa.lab.local/sdk"
HOST, MOREF = "esx01.lab.local", "host-19"
SHAPES = (("router", "structured"), ("vsphere-source", "binary"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def function_server(env: dict[str, str]) -> Iterator[str]:
    """The function in its own process: uvicorn serving the Knative ASGI app."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "examples.maintenance_mode_sync.knative_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health/readiness", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the function did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    fake = FakeVrops()
    # esx010 and esx011 match "esx01" partially, as vROps' name search does: the exact one wins.
    for name, moref in (("esx010.lab.local", "host-20"), ("esx011.lab.local", "host-21")):
        fake.add_host(name, moref)
    fake.add_host(HOST, MOREF)
    fake.add_host("esx02.lab.local", "host-22")
    expected = {
        "EnteredMaintenanceModeEvent": "MAINTAINED_MANUAL",
        "ExitMaintenanceModeEvent": "STARTED",
    }
    print("veba-sdk flagship: vCenter maintenance mode mirrored into vROps, all on loopback")
    with fake.serve() as vrops_url:
        env = {
            **os.environ,
            "VROPS_HOST": vrops_url,
            "VROPS_USERNAME": fake.username,
            "VROPS_PASSWORD": "fake-Passw0rd!",
            "VCENTER_UUIDS": f"{VCENTER}={FakeVrops.DEFAULT_VCENTER_UUID}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        print(f"vROps stand-in : {vrops_url} (hosts: esx01, esx010, esx011, esx02)")
        with function_server(env) as function_url, httpx.Client(timeout=30) as client:
            print(f"function       : {function_url} (Knative adapter on uvicorn)")
            print(f"{HOST} in vROps: {fake.state_of(HOST)}")
            for producer, mode in SHAPES:
                for name in ("EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"):
                    event = make_event(name, host={"name": HOST, "host": {"value": MOREF}})
                    headers, body = to_cloudevent(
                        event, producer=producer, mode=mode, source=VCENTER
                    )
                    response = client.post(function_url, headers=headers, content=body)
                    print(
                        f"  {producer + ' / ' + mode:26} {name:28} -> HTTP "
                        f"{response.status_code}; vROps state: {fake.state_of(HOST)}"
                    )
                    if response.status_code >= 300 or fake.state_of(HOST) != expected[name]:
                        print(f"  unexpected; the function said: {response.text}")
                        return 1
        print(
            f"vROps requests: {fake.total_requests()} in all, {fake.acquires} token acquire"
            f"{'' if fake.acquires == 1 else 's'}"
        )
    print("done: STARTED -> MAINTAINED_MANUAL -> STARTED, in both producer shapes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
