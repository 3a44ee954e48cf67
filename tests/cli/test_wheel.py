"""The wheel installs with one platform's extra only, and that kit's entry module serves events."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from veba_sdk.cli._kits import kit_dir

ROOT = Path(__file__).parents[2]
EXTRAS = {"knative": "knative", "openfaas": "openfaas", "lambda": "lambda", "gcf": "gcf"}

CHECK = r"""
import json, socket, subprocess, sys, threading, time, urllib.request
from veba_sdk.testing import make_event, to_cloudevent, to_eventbridge, to_openfaas

platform = sys.argv[1]
event = make_event("EnteredMaintenanceModeEvent", host__name="esx01")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port, headers, body):
    deadline = time.monotonic() + 30
    while True:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/", data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if platform == "lambda":
    from main import lambda_handler
    print("RESULT", 200, json.dumps(lambda_handler(to_eventbridge(event), None)))
elif platform == "openfaas":
    from wsgiref.simple_server import make_server
    from index import app
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    request = to_openfaas(event)
    print("RESULT", *post(server.server_port, request["headers"], request["body"]))
else:
    port = free_port()
    command = {
        "knative": [sys.executable, "-m", "uvicorn", "main:app", "--port", str(port)],
        "gcf": [sys.executable, "-m", "functions_framework", "--target", "function",
                "--signature-type", "cloudevent", "--port", str(port)],
    }[platform]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        print("RESULT", *post(port, *to_cloudevent(event, "vsphere-source")))
    finally:
        server.terminate()
        server.wait()
"""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """veba-sdk's wheel, built once per session."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("veba_sdk-*.whl")
    return built


@pytest.mark.slow
@pytest.mark.parametrize("platform", sorted(EXTRAS))
def test_kit_serves_an_event_from_a_fresh_venv(wheel: Path, platform: str, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{wheel}[{EXTRAS[platform]}]",
        ],
        check=True,
        capture_output=True,
        timeout=400,
    )
    app = tmp_path / "app"
    shutil.copytree(kit_dir(platform), app)
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # PyYAML and httpx come with the `cli` extra only: a platform install must not pull them.
    for module in ("yaml", "httpx"):
        leaked = subprocess.run(
            [str(python), "-c", f"import {module}"], capture_output=True, env=environment
        )
        assert leaked.returncode != 0, f"{module} leaked into the {platform} install"
    result = subprocess.run(
        [str(python), "-c", CHECK, platform],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    # The handler's own log line shares stdout (veba_sdk.logging): the answer is tagged.
    (answer,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    status, _, body = answer.removeprefix("RESULT ").partition(" ")
    assert status == "200"
    if platform in ("lambda", "openfaas"):  # in process: the handler's line is ours to read
        assert "EnteredMaintenanceModeEvent: host esx01" in result.stdout
    if platform != "gcf":
        assert '"host": "esx01"' in body or '"host":"esx01"' in body
