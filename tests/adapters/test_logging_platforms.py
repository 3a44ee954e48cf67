"""Handler log lines under each kit's real command, read from the server's own stdout.

Each test lays out a function the way ``veba new`` does (the kit's real entry module, a
``handler.py`` whose handler logs with ``ctx.logger``), starts it with the command its image
runs (uvicorn, ``python index.py`` on waitress, ``functions-framework``, ``python -m
awslambdaric`` against a Runtime API stand-in), sends one event whose subject carries an
encoded newline, and reads what the process printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest
from _servers import BIN, PYTHON, free_port, server_env

from veba_sdk.events import Event
from veba_sdk.testing import make_event, to_cloudevent, to_eventbridge

sys.path.insert(0, str(Path(__file__).parent.parent / "kits"))  # the Runtime API stand-in
from lambda_runtime import RuntimeAPI

pytestmark = pytest.mark.slow

KITS = Path(__file__).parent.parent.parent / "adapters"
# functions-framework cannot be installed beside cloudevents 2.x (scripts/test-matrix.sh).
HTTP_PLATFORMS = [
    "knative",
    "openfaas",
    pytest.param(
        "gcf",
        marks=pytest.mark.skipif(
            find_spec("functions_framework") is None, reason="no functions-framework here"
        ),
    ),
]
ENTRY = {"knative": "main.py", "openfaas": "index.py", "gcf": "main.py", "lambda": "main.py"}
MARK = "MARK-7f3a"  # what the handler logs: found in output by this
#: The subject: a newline, then what a forged record would look like.
FORGED = "2026-01-01T00:00:00.000Z ERROR veba_sdk: forged"
SUBJECT = f"esx-a\n{FORGED}"

HANDLER = f'''
from veba_sdk import Router

router = Router()


@router.on("EnteredMaintenanceModeEvent")
def maintenance(event, ctx):
    ctx.logger.info("{MARK} host=%s subject=%s", event.host.name, ctx.subject)
    return {{"host": event.host.name}}
'''
OPENFAAS_TAIL = """
from veba_sdk.adapters.openfaas import handler as _openfaas_handler

handle = _openfaas_handler(router)
"""
USER_CONFIG = """import logging
import sys

logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="USER|%(name)s|%(message)s")
"""


def _function(tmp_path: Path, platform: str, *, user_config: bool = False) -> Path:
    """A function directory: the kit's entry module and a handler module."""
    directory = tmp_path / platform
    directory.mkdir()
    if platform in ENTRY:
        shutil.copy(KITS / platform / ENTRY[platform], directory / ENTRY[platform])
    source = (USER_CONFIG if user_config else "") + HANDLER
    if platform == "openfaas":
        source += OPENFAAS_TAIL
    (directory / "handler.py").write_text(source)
    return directory


def _event() -> Event:
    return make_event("EnteredMaintenanceModeEvent", host__name="esx42")


@contextmanager
def _server(platform: str, directory: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """The kit's command serving on loopback; yields its URL and the file its stdout goes to
    (stderr goes to ``stderr.txt`` beside it)."""
    port = free_port()
    argv = {
        "knative": [PYTHON, "-m", "uvicorn", "main:app", "--host", "127.0.0.1",
                    "--port", str(port), "--no-access-log"],
        "openfaas": [PYTHON, "index.py"],
        "gcf": [str(BIN / "functions-framework"), "--target", "function",
                "--host", "127.0.0.1", "--port", str(port)],
        "serve": [str(BIN / "veba"), "serve", "handler", "--port", str(port)],
    }[platform]  # fmt: skip
    stdout_path, stderr_path = directory / "stdout.txt", directory / "stderr.txt"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            argv,
            cwd=directory,
            env=server_env({"HOST": "127.0.0.1", "PORT": str(port), **env}),
            stdout=out,
            stderr=err,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{argv} exited: {stderr_path.read_text()}")
                try:
                    httpx.get(base + "/", timeout=1.0)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{argv} did not start") from None
                    time.sleep(0.05)
            yield base, stdout_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _post(platform: str, base: str) -> httpx.Response:
    """One EnteredMaintenanceModeEvent as the platform's producer sends it, ``SUBJECT`` in it."""
    event = _event()
    if platform not in ("knative", "serve"):
        # Structured: VEBA's OpenFaaS processor posts it with no CE headers or content type;
        # functions-framework's cloudevents 1.x does not percent-decode binary-mode headers.
        headers, body = to_cloudevent(event, "vsphere-source", "structured")
        document = json.loads(body)
        document["subject"] = SUBJECT
        if platform == "openfaas":
            headers = {}
        return httpx.post(base + "/", headers=headers, content=json.dumps(document), timeout=10)
    headers, body = to_cloudevent(event, "vsphere-source", "binary")
    headers["ce-subject"] = "esx-a%0A" + FORGED.replace(" ", "%20")
    return httpx.post(base + "/", headers=headers, content=body, timeout=10)


def _run_http(
    platform: str, tmp_path: Path, env: dict[str, str], *, user_config: bool = False
) -> tuple[str, str]:
    directory = _function(tmp_path, platform, user_config=user_config)
    with _server(platform, directory, env) as (base, stdout_path):
        response = _post(platform, base)
        assert response.status_code in (200, 204), response.text
        time.sleep(0.3)  # the line is flushed before the answer; give a slow pipe a moment
    return stdout_path.read_text(), (directory / "stderr.txt").read_text()


# -- AWS Lambda: awslambdaric, as the kit's image runs it ----------------------------------------


#: awslambdaric is in the test extra; an environment without it skips the runtime's tests.
needs_runtime = pytest.mark.skipif(find_spec("awslambdaric") is None, reason="no awslambdaric")


def _frames(data: bytes) -> list[str]:
    """The messages in the Lambda telemetry log stream (type, length, timestamp, message)."""
    messages = []
    while len(data) >= 16:
        length = int.from_bytes(data[4:8], "big")
        messages.append(data[16 : 16 + length].decode())
        data = data[16 + length :]
    return messages


def _run_lambda(tmp_path: Path, env: dict[str, str]) -> tuple[str, str, list[str]]:
    """The Lambda kit under awslambdaric, as the managed runtime runs it: the runtime's log
    lines go to the telemetry file descriptor as frames, print() output to stdout."""
    directory = _function(tmp_path, "lambda")
    event = to_eventbridge(_event())
    event["detail"]["type"] = "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
    event["detail"]["subject"] = SUBJECT
    read_end, write_end = os.pipe()
    telemetry = bytearray()

    def drain() -> None:
        while chunk := os.read(read_end, 65536):
            telemetry.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with RuntimeAPI() as api:
        stdout_path, stderr_path = directory / "stdout.txt", directory / "stderr.txt"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(
                [PYTHON, "-m", "awslambdaric", "main.lambda_handler"],
                cwd=directory,
                env=server_env(
                    {
                        "AWS_LAMBDA_RUNTIME_API": api.address,
                        "_LAMBDA_TELEMETRY_LOG_FD": str(write_end),
                        "AWS_LAMBDA_FUNCTION_NAME": "veba-function",
                        **env,
                    }
                ),
                stdout=out,
                stderr=err,
                pass_fds=(write_end,),
            )
            os.close(write_end)
            try:
                outcome = api.invoke(event, timeout=30)
                assert outcome.kind == "response", outcome.body
                time.sleep(0.3)
            finally:
                process.terminate()
                process.wait(timeout=10)
    reader.join(timeout=5)
    os.close(read_end)
    return stdout_path.read_text(), stderr_path.read_text(), _frames(bytes(telemetry))


def _marked(text: str) -> list[str]:
    return [line for line in text.splitlines() if MARK in line]


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_handler_line_on_stdout_once_and_never_forged(platform: str, tmp_path: Path) -> None:
    stdout, stderr = _run_http(platform, tmp_path, {})
    lines = _marked(stdout)
    assert len(lines) == 1, stdout
    assert " INFO veba_sdk: " in lines[0]
    assert "host=esx42 subject=esx-a\\n" + FORGED in lines[0]
    assert not any(line.startswith(FORGED) for line in stdout.splitlines())
    assert MARK not in stderr  # once: not on stdout and again through a root handler


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_log_level_warning_hides_the_line(platform: str, tmp_path: Path) -> None:
    stdout, stderr = _run_http(platform, tmp_path, {"LOG_LEVEL": "WARNING"})
    assert MARK not in stdout
    assert MARK not in stderr


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_json_lines_carry_the_correlation_fields(platform: str, tmp_path: Path) -> None:
    stdout, stderr = _run_http(platform, tmp_path, {"VEBA_LOG_FORMAT": "json"})
    lines = _marked(stdout)
    assert len(lines) == 1, stdout
    record = json.loads(lines[0])
    assert record["level"] == "INFO"
    assert record["logger"] == "veba_sdk"
    assert record["message"] == f"{MARK} host=esx42 subject={SUBJECT}"
    assert record["event_subject"] == SUBJECT
    assert record["event_type"] == "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
    assert record["event_source"].startswith("https://")
    assert record["event_id"]
    assert record["event"] == "EnteredMaintenanceModeEvent"
    assert record["handler"] == "maintenance"
    assert MARK not in stderr


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_users_own_logging_config_is_left_alone(platform: str, tmp_path: Path) -> None:
    stdout, stderr = _run_http(platform, tmp_path, {}, user_config=True)
    assert MARK not in stdout
    lines = _marked(stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"USER|veba_sdk|{MARK} host=esx42")


@needs_runtime
def test_lambda_runtime_shows_the_line_once(tmp_path: Path) -> None:
    stdout, stderr, frames = _run_lambda(tmp_path, {})
    marked = [frame for frame in frames if MARK in frame]
    assert len(marked) == 1, frames
    # The runtime's own text format; the frame keeps the record one log event.
    assert marked[0].startswith("[INFO]\t")
    assert f"{MARK} host=esx42 subject={SUBJECT}" in marked[0]
    assert MARK not in stdout
    assert MARK not in stderr


@needs_runtime
def test_lambda_log_level_warning_hides_the_line(tmp_path: Path) -> None:
    stdout, stderr, frames = _run_lambda(tmp_path, {"LOG_LEVEL": "WARNING"})
    assert not [frame for frame in frames if MARK in frame]
    assert MARK not in stdout + stderr


@needs_runtime
def test_lambda_json_lines(tmp_path: Path) -> None:
    stdout, stderr, frames = _run_lambda(tmp_path, {"VEBA_LOG_FORMAT": "json"})
    assert not [frame for frame in frames if MARK in frame]  # not twice
    assert MARK not in stderr
    lines = _marked(stdout)
    assert len(lines) == 1, stdout
    record = json.loads(lines[0])
    assert record["handler"] == "maintenance"
    assert record["event_subject"] == SUBJECT
    assert record["event"] == "EnteredMaintenanceModeEvent"


@needs_runtime
def test_lambda_runtime_json_format_gets_the_fields(tmp_path: Path) -> None:
    # AWS's own JSON log format (AWS_LAMBDA_LOG_FORMAT=JSON) shows a record's extra fields.
    stdout, _, frames = _run_lambda(tmp_path, {"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    marked = [json.loads(frame) for frame in frames if MARK in frame]
    assert len(marked) == 1, frames
    assert marked[0]["event_subject"] == SUBJECT
    assert marked[0]["handler"] == "maintenance"
    assert marked[0]["requestId"]
    assert MARK not in stdout


def test_lambda_handler_called_directly_logs_to_stdout(tmp_path: Path) -> None:
    # No runtime (a script, a local test run): the SDK's own handler, escaped to one line.
    directory = _function(tmp_path, "lambda")
    event = to_eventbridge(_event())
    event["detail"]["type"] = "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
    event["detail"]["subject"] = SUBJECT
    call = f"main.lambda_handler(json.loads({json.dumps(event)!r}), None)"
    script = f"import json, main; print({call})"
    done = subprocess.run(
        [PYTHON, "-c", script], cwd=directory, env=server_env(), capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    lines = _marked(done.stdout)
    assert len(lines) == 1, done.stdout
    assert "subject=esx-a\\n" + FORGED in lines[0]
    assert "{'host': 'esx42'}" in done.stdout
    assert MARK not in done.stderr


@pytest.mark.skipif(find_spec("functions_framework") is None, reason="no functions-framework")
def test_functions_framework_execution_id_logging_shows_the_line_once(tmp_path: Path) -> None:
    # LOG_EXECUTION_ID (Cloud Run functions): the framework configures the root logger itself,
    # at WARNING, writing JSON with the execution id; the line goes through it, once.
    stdout, stderr = _run_http("gcf", tmp_path, {"LOG_EXECUTION_ID": "true"})
    assert MARK not in stdout
    lines = _marked(stderr)  # where the framework's handler writes
    assert len(lines) == 1, stderr
    record = json.loads(lines[0])
    assert record["message"] == f"{MARK} host=esx42 subject={SUBJECT}"
    assert record["logging.googleapis.com/labels"]["execution_id"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_veba_serve_logs_to_stderr_in_the_deployed_format(log_format: str, tmp_path: Path) -> None:
    stdout, stderr = _run_http("serve", tmp_path, {"VEBA_LOG_FORMAT": log_format})
    lines = _marked(stderr)
    assert len(lines) == 1, stderr
    assert MARK not in stdout
    if log_format == "text":
        assert lines[0].endswith(f" INFO veba_sdk: {MARK} host=esx42 subject=esx-a\\n{FORGED}")
    else:
        record = json.loads(lines[0])
        assert record["event_subject"] == SUBJECT
        assert record["handler"] == "maintenance"


def test_veba_manifests_keeps_log_lines_out_of_the_yaml(tmp_path: Path) -> None:
    # The OpenFaaS handler module makes its adapter at import; the warning about an unreadable
    # LOG_LEVEL goes to stderr, and stdout is the manifest alone.
    import yaml

    directory = _function(tmp_path, "openfaas")
    done = subprocess.run(
        [str(BIN / "veba"), "manifests", "handler", "--target", "openfaas"],
        cwd=directory, env=server_env({"LOG_LEVEL": "bogus"}), capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    assert yaml.safe_load(done.stdout)["provider"]["name"] == "openfaas"
    assert "veba_sdk" not in done.stdout
    assert "WARNING veba_sdk: LOG_LEVEL 'bogus' is not a log level" in done.stderr
