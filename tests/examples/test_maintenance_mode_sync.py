"""The flagship through each of the four adapters, on real servers, against FakeVrops on loopback.

Knative: the ASGI app under uvicorn. OpenFaaS: the python3-http template's Flask app under
waitress. functions-framework: its own server. Lambda: the handler given EventBridge events.
Every case: enter, exit, enter twice, exit without enter, vROps 503 then 200, vROps down for
good, a host vROps does not know.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters"))
if str(Path(__file__).resolve().parents[2]) not in sys.path:  # the examples package's root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from _servers import free_port, running

from veba_sdk import HandlerError
from veba_sdk.testing import (
    FakeVrops,
    Mode,
    Platform,
    Producer,
    make_event,
    to_cloudevent,
    to_eventbridge,
    to_openfaas,
)
from veba_sdk.vrops import VropsClient

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
VCENTER = "https://vcsa.lab.local/sdk"
BIN = Path(sys.executable).parent


@dataclass
class Outcome:
    """What the platform answered: success (2xx / returned) or a retryable failure."""

    ok: bool
    body: str


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeVrops, str]]:
    fake = FakeVrops()
    fake.add_host("esx010.lab.local", "host-20")
    fake.add_host("esx01.lab.local", "host-19")
    fake.add_host("esx02.lab.local", "host-22")
    fake.add_host("esx03.lab.local", "host-23")
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeVrops, str]) -> Iterator[FakeVrops]:
    yield served[0]
    served[0].clear_faults()


@pytest.fixture(scope="module")
def function_env(served: tuple[FakeVrops, str]) -> dict[str, str]:
    fake, url = served
    return {
        **os.environ,
        "VROPS_HOST": url,
        "VROPS_USERNAME": fake.username,
        "VROPS_PASSWORD": "fake-Passw0rd!",
        "VCENTER_UUIDS": f"{VCENTER}={FakeVrops.DEFAULT_VCENTER_UUID}",
        # a short retry budget, so "vROps down for good" fails fast
        "VROPS_RETRY_ATTEMPTS": "3",
        "VROPS_RETRY_TIMEOUT": "5",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


Deliver = Callable[[Any], Outcome]


def _http_outcome(response: httpx.Response) -> Outcome:
    return Outcome(ok=response.is_success, body=response.text)


@pytest.fixture(scope="module", params=["knative", "openfaas", "gcf", "lambda"])
def deliver(
    request: pytest.FixtureRequest,
    function_env: dict[str, str],
) -> Iterator[Deliver]:
    """Send one typed event to the flagship as the platform delivers it."""
    platform = request.param
    if platform == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    port = free_port()
    if platform == "lambda":
        yield from _in_process_lambda(function_env)
        return
    if platform == "knative":
        argv = [
            str(BIN / "uvicorn"),
            "examples.maintenance_mode_sync.knative_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
    elif platform == "openfaas":
        argv = [
            sys.executable,
            str(HERE / "_openfaas_index.py"),
            str(port),
            "examples.maintenance_mode_sync.openfaas_handler",
        ]
    else:
        argv = [
            str(BIN / "functions-framework"),
            "--source",
            str(ROOT / "examples/maintenance_mode_sync/gcf_main.py"),
            "--target",
            "handle",
            "--signature-type",
            "cloudevent",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    with (
        running(argv, port, env=function_env, cwd=ROOT, ready_path=None) as url,
        httpx.Client(timeout=60) as client,
    ):

        def send(event: Any) -> Outcome:
            if platform == "openfaas":
                req = to_openfaas(event, source=VCENTER)
                return _http_outcome(client.post(url, headers=req["headers"], content=req["body"]))
            producer: Producer
            mode: Mode
            producer, mode = (
                ("vsphere-source", "binary") if platform == "knative" else ("router", "structured")
            )
            headers, body = to_cloudevent(event, producer=producer, mode=mode, source=VCENTER)
            return _http_outcome(client.post(url, headers=headers, content=body))

        yield send


def _in_process_lambda(env: dict[str, str]) -> Iterator[Deliver]:
    saved = dict(os.environ)
    os.environ.update(env)
    from examples.maintenance_mode_sync import lambda_function

    VropsClient.set_shared(None)  # the next event reads the environment set above

    def send(event: Any) -> Outcome:
        try:
            value = lambda_function.lambda_handler(to_eventbridge(event, source=VCENTER), None)
        except HandlerError as exc:
            return Outcome(ok=False, body=str(exc))
        return Outcome(ok=True, body=json.dumps(value, default=str))

    try:
        yield send
    finally:
        VropsClient.set_shared(None)  # closes it: the token is released
        os.environ.clear()
        os.environ.update(saved)


def _event(name: str, host: str, moref: str) -> Any:
    return make_event(name, host={"name": host, "host": {"value": moref}})


ENTER, EXIT = "EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"


def test_enter_then_exit(fake: FakeVrops, deliver: Deliver) -> None:
    assert fake.state_of("esx01.lab.local") == "STARTED"
    assert deliver(_event(ENTER, "esx01.lab.local", "host-19")).ok
    assert fake.state_of("esx01.lab.local") == "MAINTAINED_MANUAL"
    assert fake.state_of("esx010.lab.local") == "STARTED"  # the partial match is untouched
    assert deliver(_event(EXIT, "esx01.lab.local", "host-19")).ok
    assert fake.state_of("esx01.lab.local") == "STARTED"


def test_enter_twice_and_exit_without_enter(fake: FakeVrops, deliver: Deliver) -> None:
    event = _event(ENTER, "esx02.lab.local", "host-22")
    assert deliver(event).ok
    assert deliver(event).ok  # the broker redelivers the same event
    assert deliver(_event(ENTER, "esx02.lab.local", "host-22")).ok  # vCenter says it again
    assert fake.state_of("esx02.lab.local") == "MAINTAINED_MANUAL"
    assert deliver(_event(EXIT, "esx02.lab.local", "host-22")).ok
    assert deliver(_event(EXIT, "esx02.lab.local", "host-22")).ok
    assert fake.state_of("esx02.lab.local") == "STARTED"


def test_vrops_503_then_200_succeeds(fake: FakeVrops, deliver: Deliver) -> None:
    fake.fail_next(1, 503, path="maintained")
    assert deliver(_event(ENTER, "esx03.lab.local", "host-23")).ok
    assert fake.state_of("esx03.lab.local") == "MAINTAINED_MANUAL"
    assert deliver(_event(EXIT, "esx03.lab.local", "host-23")).ok


def test_vrops_down_for_good_is_a_retryable_failure(fake: FakeVrops, deliver: Deliver) -> None:
    fake.fail_next(1000, 503)
    try:
        outcome = deliver(_event(ENTER, "esx03.lab.local", "host-23"))
    finally:
        fake.clear_faults()
    assert not outcome.ok
    assert "fake-Passw0rd!" not in outcome.body
    assert fake.state_of("esx03.lab.local") == "STARTED"  # nothing reported as done
    # and once vROps is back, the redelivery goes through
    assert deliver(_event(ENTER, "esx03.lab.local", "host-23")).ok
    assert deliver(_event(EXIT, "esx03.lab.local", "host-23")).ok


def test_unknown_host_is_skipped_not_retried(
    fake: FakeVrops, deliver: Deliver, request: pytest.FixtureRequest
) -> None:
    before = {name: fake.state_of(name) for name in ("esx01.lab.local", "esx010.lab.local")}
    outcome = deliver(_event(ENTER, "esx99.lab.local", "host-99"))
    assert outcome.ok  # a retry could never succeed: acknowledged, logged as an error
    if request.node.callspec.params["deliver"] != "gcf":  # functions-framework answers "OK"
        assert "skipped" in outcome.body
        assert "esx99.lab.local" in outcome.body
    assert {name: fake.state_of(name) for name in before} == before


# -- in-process, with the test kit: no vROps settings, VropsClient.shared() on FakeVrops --------


def _no_vrops_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower().startswith("vrops"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VEBA_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("VCENTER_UUIDS", f"{VCENTER}={FakeVrops.DEFAULT_VCENTER_UUID}")


@pytest.mark.parametrize("platform", ["knative", "openfaas", "lambda", "gcf"])
def test_in_process_with_the_vrops_client_fixture(
    platform: Platform,
    fake_vrops: FakeVrops,
    vrops_client: VropsClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    if platform == "gcf":
        pytest.importorskip("functions_framework")
    _no_vrops_settings(monkeypatch, tmp_path)
    from examples.maintenance_mode_sync.handler import router
    from veba_sdk.testing import client

    fake_vrops.add_host("esx01.lab.local", "host-19")
    fake_vrops.add_host("esx010.lab.local", "host-20")
    with client(router, platform=platform) as function:
        for name, state in ((ENTER, "MAINTAINED_MANUAL"), (EXIT, "STARTED")):
            response = function.send(_event(name, "esx01.lab.local", "host-19"), source=VCENTER)
            assert response.ok, response.text
            assert fake_vrops.state_of("esx01.lab.local") == state
        assert fake_vrops.state_of("esx010.lab.local") == "STARTED"
    assert fake_vrops.acquires == 1  # the fixture's one client served every event


def test_manifests_need_no_vrops_settings(tmp_path: Path) -> None:
    """``veba manifests`` imports the handler module: with shared(), no settings are needed."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("vrops")}
    env["VEBA_SECRETS_DIR"] = str(tmp_path)
    done = subprocess.run(
        [str(BIN / "veba"), "manifests", "examples.maintenance_mode_sync.handler",
         "--target", "knative", "--name", "mm-sync", "--image", "registry.example.com/mm:1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "EnteredMaintenanceModeEvent" in done.stdout
    assert "ExitMaintenanceModeEvent" in done.stdout
