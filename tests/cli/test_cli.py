"""The ``veba`` command: help, errors, events, manifests, and serve + send over loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from veba_sdk.cli import COMMANDS, main

CONFIGS = Path(__file__).parents[1] / "fixtures" / "router-configs"
VEBA = [sys.executable, "-c", "import sys; from veba_sdk.cli import main; sys.exit(main())"]

FUNCTION = """
from veba_sdk import Router
router = Router()

@router.on("EnteredMaintenanceModeEvent", "com.vmware.vc.HA.*")
def handle(event, ctx):
    host = event.host.name if event.host is not None else None
    ctx.logger.info("handled %s for host %s", ctx.name, host)
    return {"name": ctx.name, "producer": ctx.producer, "host": host}

@router.on("VmPoweredOffEvent")
def broken(event):
    raise RuntimeError("boom")
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    "command", [[], *([c] for c in COMMANDS), ["events", "list"], ["events", "show"]]
)
def test_help_on_every_command(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0
    assert out.startswith("Usage: veba")


def test_usage_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "send")
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("veba: error: Missing argument")
    status, _, err = run(capsys, "nonsense")
    assert status == 2
    assert "No such command" in err


def test_unknown_event_names_get_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "send", "EnteredMaintenanceMode")
    assert status == 2
    assert "did you mean 'EnteredMaintenanceModeEvent'" in err
    status, _, err = run(capsys, "events", "show", "vmpoweredonevent")
    assert status == 2
    assert "'VmPoweredOnEvent'" in err
    assert err.count("\n") == 1


def test_events_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "events", "list")
    assert status == 0
    assert len(out.splitlines()) == 443
    status, out, _ = run(capsys, "events", "list", "Vm*Power*")
    assert "VmPoweredOnEvent" in out.split()
    assert all(name.startswith("Vm") for name in out.split())
    status, out, _ = run(capsys, "events", "show", "DrsVmPoweredOnEvent")
    assert status == 0
    assert "parents: VmPoweredOnEvent -> VmEvent -> Event" in out
    assert "CreatedTime" in out
    assert "since 2.0" in out
    assert '"Vm": {' in out
    status, _, _ = run(capsys, "events", "list", "Nope*")
    assert status == 1


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "fn_module.py").write_text(FUNCTION)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("fn_module", None)


def test_manifests_to_stdout_and_files(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    config = str(CONFIGS / "dev__event-router-config-vcenter-knative.yaml")
    status, out, _ = run(capsys, "manifests", "fn_module", "--config", config, "--image", "x:1")
    assert status == 0
    docs = [d for d in yaml.safe_load_all(out) if d]
    # VmPoweredOffEvent covers its subclasses (VmPowerOffOnIsolationEvent,
    # VmShutdownOnIsolationEvent): each is a Trigger of its own.
    assert [d["kind"] for d in docs] == ["Service"] + ["Trigger"] * 5
    assert docs[0]["metadata"]["name"] == "veba-fn-module"
    status, out, _ = run(
        capsys, "manifests", "fn_module:router", "--target", "lambda", "--out", "deploy"
    )
    assert status == 0
    assert (project / "deploy" / "template.yaml").is_file()
    status, _, err = run(capsys, "manifests", "fn_module", "--target", "openfaas")
    assert status == 1
    assert "OpenFaaS topics" in err
    status, _, err = run(capsys, "manifests", "missing_module", "--target", "knative")
    assert status == 2
    assert "no module named 'missing_module'" in err


def test_manifests_say_which_producer_and_keep_stdout_yaml(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    config = str(CONFIGS / "dev__event-router-config-vcenter-knative.yaml")
    source = project / "vsphere-source.yaml"
    source.write_text(
        (Path(__file__).parents[1] / "specs" / "vsphere-source" / "samples_tag-new-vms_source.yaml")
        .read_text()
        .replace("name: default", "name: default\n      namespace: vmware-functions")
    )
    cases = [
        (["--target", "knative"], "vsphere-source", "the default: the current appliance"),
        (["--config", config], "router", "--config is a RouterConfig"),
        (["--config", str(source)], "vsphere-source", "--config is a VSphereSource"),
        (["--config", config, "--producer", "vsphere-source"], "vsphere-source", "--producer"),
    ]
    for options, producer, why in cases:
        status, out, err = run(capsys, "manifests", "fn_module", *options)
        assert status == 0, err
        note = err.strip()
        assert note.startswith(f"veba: the knative manifests target the {producer} producer ("), err
        assert why in note
        docs = [d for d in yaml.safe_load_all(out) if d]  # stdout is YAML and nothing else
        triggers = [d for d in docs if d["kind"] == "Trigger"]
        for trigger in triggers:
            spec = trigger["spec"]
            text = yaml.safe_dump(spec.get("filter") or spec.get("filters"))
            # The router puts the event name in subject; the VSphereSource in the type.
            if producer == "router":
                assert "subject" in text, text
            else:
                assert "com.vmware.vsphere." in text, text
                assert "subject" not in text, text
    status, out, err = run(capsys, "manifests", "fn_module", "--config", str(source))
    assert {d["metadata"]["namespace"] for d in yaml.safe_load_all(out) if d} == {
        "vmware-functions"
    }


def test_manifests_delivery_and_event_bus_options(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    status, out, _ = run(
        capsys,
        "manifests",
        "fn_module",
        "--target",
        "knative",
        "--retry",
        "4",
        "--backoff-policy",
        "exponential",
        "--backoff-delay",
        "PT0.5S",
        "--dead-letter-sink",
        "ksvc:dead-letters",
    )
    assert status == 0
    triggers = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "Trigger"]
    assert triggers
    for trigger in triggers:
        assert trigger["spec"]["delivery"] == {
            "retry": 4,
            "backoffPolicy": "exponential",
            "backoffDelay": "PT0.5S",
            "deadLetterSink": {
                "ref": {
                    "apiVersion": "serving.knative.dev/v1",
                    "kind": "Service",
                    "name": "dead-letters",
                }
            },
        }
    status, out, _ = run(capsys, "manifests", "fn_module", "--target", "knative", "--no-delivery")
    assert "delivery" not in out
    status, _, err = run(
        capsys, "manifests", "fn_module", "--target", "knative", "--backoff-delay", "5s"
    )
    assert status == 1
    assert err.strip() == (
        "veba: error: backoff delay '5s' is not an ISO 8601 duration (e.g. PT1S, PT0.5S, PT2M)"
    )
    status, _, err = run(capsys, "manifests", "fn_module", "--target", "lambda", "--retry", "3")
    assert status == 2
    assert "--retry: Knative Triggers only, not lambda" in err
    status, out, err = run(
        capsys, "manifests", "fn_module", "--target", "lambda", "--event-bus", "vmware-events"
    )
    assert status == 0
    template = yaml.safe_load(out)
    assert template["Parameters"]["EventBusName"]["Default"] == "vmware-events"
    assert "EventBusName, default 'vmware-events'" in err
    status, out, err = run(capsys, "manifests", "fn_module", "--target", "lambda")
    assert "default 'default' (no --config or --event-bus)" in err
    assert (
        "forwards only the subjects its ruleARN rule lists in detail.subject, exactly: list "
        "EnteredMaintenanceModeEvent" in err
    )
    assert "each event of com.vmware.vc.HA.* by its full name" in err
    aws = str(CONFIGS / "dev__event-router-config-vcenter-aws.yaml")
    status, _, err = run(capsys, "manifests", "fn_module", "--config", aws, "--event-bus", "x")
    assert status == 1
    assert "not the RouterConfig's eventBus 'default'" in err


def test_listen_refuses_a_vsphere_source_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    source = Path(__file__).parents[1] / "specs" / "vsphere-source" / "samples_vcsim_source.yaml"
    status, out, err = run(capsys, "listen", "--config", str(source))
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "is a VSphereSource, whose vCenter credentials live in a Kubernetes secret" in err


def test_a_misspelt_config_key_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    text = (CONFIGS / "dev__event-router-config-vcenter-knative.yaml").read_text()
    (project / "typo.yaml").write_text(text.replace("    address:", "    adress:"))
    status, out, err = run(capsys, "manifests", "fn_module", "--config", "typo.yaml")
    assert status == 1
    assert out == ""
    assert err == (
        "veba: error: 2 problems: eventProvider.vcenter.adress: unknown field "
        "(did you mean 'address'?); eventProvider.vcenter.address: required\n"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("server did not start")


def _start_serve(project: Path, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    """``veba serve fn_module`` in a subprocess, once its port accepts connections."""
    port = _free_port()
    process = subprocess.Popen(
        [*VEBA, "serve", "fn_module", *options, "--port", str(port)],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        _wait(port, process)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return process, port


@pytest.fixture(params=["knative", "openfaas", "gcf"])
def served(request: pytest.FixtureRequest, project: Path) -> Iterator[tuple[str, str]]:
    """``(adapter, url)`` of ``veba serve`` running the test function in a subprocess."""
    if request.param == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    process, port = _start_serve(project, "--adapter", request.param)
    try:
        yield request.param, f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


SHAPES = {
    "knative": [
        [],  # no --producer: the current appliance's VSphereSource shape
        ["--producer", "router", "--mode", "binary"],
        ["--producer", "router", "--mode", "structured"],
        ["--producer", "vsphere-source", "--mode", "binary"],
        ["--producer", "vsphere-source", "--encoding", "xml"],
        ["--producer", "vsphere-source", "--mode", "structured", "--encoding", "xml"],
    ],
    "openfaas": [["--platform", "openfaas"], ["--producer", "vsphere-source"]],
    "gcf": [["--producer", "router"], ["--producer", "vsphere-source", "--mode", "structured"]],
}


def _send(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VEBA, "send", *args, "--to", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_serve_and_send_round_trip(served: tuple[str, str]) -> None:
    adapter, url = served
    for shape in SHAPES[adapter]:
        result = _send(
            url, "EnteredMaintenanceModeEvent", "--set", "host.name=esx07", "--count", "2", *shape
        )
        assert result.returncode == 0, (shape, result.stderr)
        lines = result.stdout.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith("200 OK")
        if adapter != "gcf":  # functions-framework answers "OK" for a CloudEvent function
            if "--producer" in shape:
                producer = shape[shape.index("--producer") + 1]
            else:  # derived: VEBA's OpenFaaS processor is the router's; else the appliance's
                producer = "router" if "openfaas" in shape else "vsphere-source"
            assert f"in the {producer} producer's shape" in result.stderr
            assert '"host":"esx07"' in lines[0].replace(" ", "")
            assert f'"producer":"{producer}"' in lines[0].replace(" ", "")
    failed = _send(url, "VmPoweredOffEvent")
    assert failed.returncode == 1
    assert failed.stdout.startswith("500")
    ignored = _send(url, "VmPoweredOnEvent")
    assert ignored.returncode == 0
    assert ignored.stdout.startswith(("204", "200"))
    by_id = _send(url, "com.vmware.vc.HA.DasHostFailedEvent")
    assert by_id.stdout.startswith("200")


def test_serve_shows_handler_log_records(project: Path) -> None:
    process, port = _start_serve(project)
    try:
        assert (
            _send(
                f"http://127.0.0.1:{port}/",
                "EnteredMaintenanceModeEvent",
                "--set",
                "host.name=esx42",
            ).returncode
            == 0
        )
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "INFO veba_sdk: handled EnteredMaintenanceModeEvent for host esx42" in err.decode()


def test_send_to_nothing_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys,
        "send",
        "VmPoweredOnEvent",
        "--to",
        f"http://127.0.0.1:{_free_port()}/",
        "--timeout",
        "2",
    )
    assert status == 1
    note, error = err.splitlines()
    assert note.startswith("veba: sending VmPoweredOnEvent in the vsphere-source producer's shape")
    assert error.startswith("veba: error: ")
