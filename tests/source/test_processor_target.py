"""From a RouterConfig to its processor and metrics provider; extras; `veba listen` errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from veba_sdk._errors import ConfigError
from veba_sdk.source import (
    HttpTarget,
    OpenFaasTarget,
    ProcessorStats,
    processor_target,
    run_from_config,
    source_from_config,
    stats_server,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "router-configs"


def config(tmp_path: Path, processor: str, metrics: str = 'bindAddress: "127.0.0.1:0"') -> Path:
    path = tmp_path / "router-config.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            apiVersion: event-router.vmware.com/v1alpha1
            kind: RouterConfig
            metadata: {name: test}
            eventProvider:
              type: vcenter
              name: vc
              vcenter:
                address: https://127.0.0.1:9/sdk
                insecureSSL: true
                checkpoint: false
                auth: {type: basic_auth, basicAuth: {username: u, password: vc-secret}}
            eventProcessor:
            """
        )
        + textwrap.indent(textwrap.dedent(processor), "  ")
        + "metricsProvider:\n  type: default\n  name: metrics\n  default:\n"
        + textwrap.indent(metrics, "    ")
        + "\n"
    )
    return path


BROKER_REF = """\
type: knative
name: broker
knative:
  encoding: structured
  insecureSSL: true
  destination:
    ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: rabbit, namespace: vmware}
"""


def test_openfaas_fixture_gives_an_openfaas_target() -> None:
    target = processor_target(FIXTURES / "dev__event-router-config-vcenter-openfaas.yaml")
    assert isinstance(target, OpenFaasTarget)
    assert (target.address, target.async_) == ("http://gateway.openfaas:8080", False)
    assert "ReplaceMe" not in repr(target)
    assert isinstance(target.stats, ProcessorStats)
    target.close()


def test_broker_ref_needs_its_ingress_url(tmp_path: Path) -> None:
    path = config(tmp_path, BROKER_REF)
    with pytest.raises(ConfigError, match=r"Broker vmware/rabbit needs its address.*--target"):
        processor_target(path)
    target = processor_target(path, broker_url="http://127.0.0.1:9/vmware/rabbit")
    assert isinstance(target, HttpTarget)
    assert (target.url, target.encoding) == ("http://127.0.0.1:9/vmware/rabbit", "structured")
    target.close()


def test_broker_ingress_url_in_the_config(tmp_path: Path) -> None:
    path = config(tmp_path, BROKER_REF + "    uri: http://127.0.0.1:9/vmware/rabbit\n")
    target = processor_target(path)
    assert isinstance(target, HttpTarget)
    assert target.url == "http://127.0.0.1:9/vmware/rabbit"
    target.close()


def test_stats_server_from_the_config(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        BROKER_REF + "    uri: http://127.0.0.1:9/vmware/rabbit\n",
        metrics='bindAddress: "127.0.0.1:0"\n'
        "auth: {type: basic_auth, basicAuth: {username: admin, password: m-secret}}",
    )
    source = source_from_config(path)
    server = stats_server(path, source)
    assert server is not None
    assert [s.provider for s in server.stats] == ["vcenter", "knative"]
    assert server.authorized("Basic " + "YWRtaW46bS1zZWNyZXQ=")  # admin:m-secret
    assert not server.authorized(None)
    assert "m-secret" not in repr(server)


def test_a_busy_bind_address_is_one_config_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = config(
            tmp_path,
            BROKER_REF + "    uri: http://127.0.0.1:9/vmware/rabbit\n",
            metrics=f'bindAddress: "127.0.0.1:{port}"',
        )
        with pytest.raises(ConfigError, match=rf"bindAddress: cannot listen on 127.0.0.1:{port}"):
            run_from_config(path, handle_signals=False)


def run_python(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_source_loads_neither_boto3_nor_prometheus_client() -> None:
    loaded = run_python(
        "import json, sys; import veba_sdk.source; "
        "names = ('boto3', 'botocore', 'prometheus_client'); "
        "print(json.dumps({m: m in sys.modules for m in names}))"
    )
    assert loaded == {"boto3": False, "botocore": False, "prometheus_client": False}


def test_eventbridge_without_boto3_names_the_extra() -> None:
    raised = run_python(
        textwrap.dedent(
            """\
            import json, sys
            sys.modules["boto3"] = None
            from veba_sdk.source import EventBridgeTarget
            try:
                EventBridgeTarget(event_bus="b", region="r", rule_arn="arn:aws:events:r:1:rule/x")
            except ImportError as exc:
                print(json.dumps({"type": type(exc).__name__, "message": str(exc)}))
            """
        )
    )
    assert raised == {
        "type": "MissingExtra",
        "message": "veba_sdk.source.EventBridgeTarget needs boto3, which is not installed: "
        "pip install 'veba-sdk[eventbridge]'",
    }


def test_veba_listen_broker_ref_without_target_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "veba_sdk.source", "--config", str(config(tmp_path, BROKER_REF))],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1
    assert "Broker vmware/rabbit needs its address" in errors[0]
    assert "Traceback" not in done.stderr


def test_openfaas_takes_basic_auth_only(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        """\
type: openfaas
name: gateway
openfaas:
  address: http://127.0.0.1:9
  async: true
  auth: {type: aws_access_key, awsAccessKeyAuth: {accessKey: A, secretKey: B}}
""",
    )
    with pytest.raises(ConfigError, match=r"openfaas\.auth\.type: the gateway takes basic_auth"):
        processor_target(path)
