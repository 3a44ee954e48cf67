"""Each kit's image, built by a real Docker engine from its own Dockerfile, answers as deployed.

Containers run with ``--network host`` and listen on a free port of 127.0.0.1. Knative and GCF
answer binary and structured CloudEvents; OpenFaaS answers VEBA's processor body sent with no
content type; Lambda answers an EventBridge event through ``awslambdaric`` against the Runtime
API stand-in; every one answers garbage with a 4xx (Lambda: ``InvalidEvent`` on the error
endpoint) and shows the handler's log line in ``docker logs``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kit_docker import Container, build, docker
from kit_http import free_port, post
from lambda_runtime import RuntimeAPI

from veba_sdk.cli.new import scaffold
from veba_sdk.testing import Mode, Producer, make_event, to_cloudevent, to_eventbridge, to_openfaas

pytestmark = pytest.mark.slow

EVENT = make_event("EnteredMaintenanceModeEvent", host__name="esx01")
EXPECTED = {"event": "EnteredMaintenanceModeEvent", "host": "esx01"}
#: What the kit's handler logs for EVENT (``ctx.logger.info("%s: host %s", ...)``).
LOG_LINE = "EnteredMaintenanceModeEvent: host esx01"


def assert_logged(container: Container, wait: float = 10) -> None:
    """The handler's log line reaches the container log (stdout/stderr of its process)."""
    deadline = time.monotonic() + wait
    while LOG_LINE not in (logs := container.logs()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{LOG_LINE!r} is not in the container log:\n{logs}")
        time.sleep(0.2)


def check_cloudevents(port: int, container: Container, *, json_reply: bool) -> None:
    """Binary and structured CloudEvents are answered 200; garbage gets a 4xx."""
    shapes: list[tuple[Producer, Mode]] = [("vsphere-source", "binary"), ("router", "structured")]
    for producer, mode in shapes:
        status, body = post(port, *to_cloudevent(EVENT, producer, mode))
        assert status == 200, (mode, body, container.logs())
        if json_reply:
            assert json.loads(body) == EXPECTED
    status, body = post(port, {"Content-Type": "application/json"}, b"{not json")
    assert 400 <= status < 500, (status, body)
    status, body = post(port, {}, b"\x00garbage")
    assert 400 <= status < 500, (status, body)
    assert "Traceback" not in container.logs()
    assert_logged(container)


def test_knative_image(kit_image: Callable[[str], str]) -> None:
    port = free_port()
    with Container(kit_image("knative"), env={"HOST": "127.0.0.1", "PORT": str(port)}) as box:
        check_cloudevents(port, box, json_reply=True)


@pytest.mark.parametrize(
    "environment",
    [{}, {"FUNCTION_SIGNATURE_TYPE": "http"}],
    ids=["no-signature-flag", "FUNCTION_SIGNATURE_TYPE=http"],
)
def test_gcf_image(kit_image: Callable[[str], str], environment: dict[str, str]) -> None:
    """Served with no ``--signature-type`` and as ``gcloud ... --trigger-http`` serves it."""
    port = free_port()
    env = {"HOST": "127.0.0.1", "PORT": str(port), **environment}
    with Container(kit_image("gcf"), env=env) as box:
        check_cloudevents(port, box, json_reply=False)
        logs = box.logs()
        # The non-root user has a home: gunicorn's control server starts there.
        assert "Permission denied" not in logs, logs
        assert "Control server error" not in logs, logs


def test_openfaas_image(kit_image: Callable[[str], str]) -> None:
    port = free_port()
    with Container(kit_image("openfaas"), env={"HOST": "127.0.0.1", "PORT": str(port)}) as box:
        request = to_openfaas(EVENT)
        # VEBA's OpenFaaS processor: the structured CloudEvent as the body, no content type.
        status, body = post(port, {}, request["body"])
        assert status == 200, (body, box.logs())
        assert json.loads(body) == EXPECTED
        status, body = post(port, {}, b"\x00garbage")
        assert 400 <= status < 500, (status, body)
        assert "Traceback" not in box.logs()
        assert_logged(box)


def test_lambda_image(kit_image: Callable[[str], str]) -> None:
    tag = kit_image("lambda")
    with RuntimeAPI() as api:
        env = {
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "veba-function",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_REGION": "us-west-1",
        }
        with Container(tag, env=env) as box:
            ok = api.invoke(to_eventbridge(EVENT))
            assert ok.kind == "response", (ok, box.logs())
            assert ok.body == EXPECTED
            bad = api.invoke({"garbage": True})
            assert bad.kind == "error", bad
            assert bad.body["errorType"] == "InvalidEvent", bad.body
            assert "EventBridge" in bad.body["errorMessage"], bad.body
            assert not api.init_errors, api.init_errors
            assert box.running(), box.logs()
            assert_logged(box)


def test_vendored_wheel_builds_without_an_index(
    docker_engine: None, kit_wheel: Path, tmp_path: Path
) -> None:
    """The private-build route: the wheel in wheels/, no index serving veba-sdk at all."""
    context = tmp_path / "fn"
    scaffold("veba-kit-test", "lambda", context)
    (context / "wheels" / kit_wheel.name).write_bytes(kit_wheel.read_bytes())
    tag = "veba-kit-lambda:vendored"
    build(context, tag, {})
    probe = (
        "import importlib.metadata as m, main; "
        "print(m.version('veba-sdk'), callable(main.lambda_handler))"
    )
    try:
        result = docker(
            "run", "--rm", "--network", "host", "--entrypoint", "python", tag, "-c", probe
        )
        assert result.stdout.split() == [kit_wheel.name.split("-")[1], "True"]
    finally:
        docker("rmi", "-f", tag, check=False)
