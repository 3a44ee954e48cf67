"""Source deploys: each kit's ``requirements.txt``, installed alone in a fresh venv, serves events.

This is what the deploy paths that never read the Dockerfile do: the OpenFaaS python3-http
template (``pip install -r function/requirements.txt``), SAM's zip build and
``gcloud functions deploy --source=.`` (pip over the uploaded directory). veba-sdk comes from
the local index, named by an ``--extra-index-url`` line added to the copied ``requirements.txt``
(the private-index route that works on every path); nothing else is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from kit_index import PackageIndex

from veba_sdk.cli.new import scaffold

pytestmark = pytest.mark.slow

CHECK = r"""
import json, socket, subprocess, sys, threading, time, http.client
from veba_sdk.testing import make_event, to_cloudevent, to_eventbridge, to_openfaas

platform = sys.argv[1]
event = make_event("EnteredMaintenanceModeEvent", host__name="esx01")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port, headers, body):
    deadline = time.monotonic() + 60
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        finally:
            connection.close()


if platform == "lambda":
    from main import lambda_handler
    print("RESULT", 200, json.dumps(lambda_handler(to_eventbridge(event), None)))
elif platform == "openfaas":
    from wsgiref.simple_server import make_server
    from index import app
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("RESULT", *post(server.server_port, {}, to_openfaas(event)["body"]))
else:
    port = free_port()
    command = {
        "knative": [sys.executable, "-m", "uvicorn", "main:app", "--port", str(port)],
        # No --signature-type: main.py registers a CloudEvent function itself.
        "gcf": [sys.executable, "-m", "functions_framework", "--target", "function",
                "--host", "127.0.0.1", "--port", str(port)],
    }[platform]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for producer, mode in (("vsphere-source", "binary"), ("router", "structured")):
            print("RESULT", *post(port, *to_cloudevent(event, producer, mode)))
    finally:
        server.terminate()
        server.wait()
"""


def fresh_env() -> dict[str, str]:
    """The environment without this test run's interpreter settings."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.mark.parametrize(
    ("platform", "signature"),
    [
        ("knative", None),
        ("openfaas", None),
        ("lambda", None),
        ("gcf", None),
        ("gcf", "http"),  # as `gcloud functions deploy --trigger-http` serves it
    ],
)
def test_requirements_alone_make_the_entry_module_serve(
    kit_index: PackageIndex, platform: str, signature: str | None, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    scaffold("veba-kit-test", platform, app)
    requirements = app / "requirements.txt"
    requirements.write_text(
        requirements.read_text() + f"--extra-index-url {kit_index.url}\n", encoding="utf-8"
    )
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=600,
        env=fresh_env(),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    names = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; "
         "print(' '.join(d.metadata['Name'].lower() for d in m.distributions()))"],
        capture_output=True, text=True, check=True, env=fresh_env(),
    ).stdout.split()  # fmt: skip
    assert "veba-sdk" in names
    # What only the images add stays out of a source deploy (a SAM zip, the template's image).
    assert "awslambdaric" not in names
    assert "waitress" not in names
    # PyYAML and httpx come with the `cli` extra only: a platform's install must not pull them.
    assert "pyyaml" not in names
    assert "httpx" not in names
    env = fresh_env()
    if signature is not None:
        env["FUNCTION_SIGNATURE_TYPE"] = signature
    result = subprocess.run(
        [str(python), "-c", CHECK, platform],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    results = [line[7:] for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, result.stdout
    for line in results:
        status, _, body = line.partition(" ")
        assert status == "200", line
        if platform != "gcf":  # functions-framework answers "OK"
            assert '"host": "esx01"' in body or '"host":"esx01"' in body, body
    if platform in ("lambda", "openfaas"):  # in process: the handler's log line is on stdout
        assert "EnteredMaintenanceModeEvent: host esx01" in result.stdout
