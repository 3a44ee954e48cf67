"""`veba listen` (python -m veba_sdk.source) with each RouterConfig processor, end to end.

govmomi's simulator is the vCenter. Three listen processes run from their RouterConfigs at
once: ``openfaas`` against a gateway stand-in (two subscribed functions; every few calls
fail with 503 or 429), ``aws_event_bridge`` against moto's server mode (a rule whose
pattern selects the events, an SQS target, a catch-all rule showing that unmatched events
were never sent) and ``knative`` with a ``destination.ref`` to a Broker whose ingress URL
is given with ``--target`` (some answers 503). All three are killed with SIGKILL mid-stream
and restarted: every event reaches every processor at least once, in order, none skipped.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from processor_standins import REGION, Broker, EventBridgeStack, Gateway
from pyVmomi import vim
from source_helpers import Poster, Vcsim, wait_until

pytestmark = [pytest.mark.simulator, pytest.mark.slow]

TOPIC = "com.example.kill"
WARMUP = "com.example.warmup"
PATTERN = {"detail-type": [TOPIC, WARMUP]}
METRICS_PASSWORD = "metrics-secret"
GATEWAY_PASSWORD = "gateway-secret"
TOTAL = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def router_config(
    path: Path, sim: Vcsim, checkpoint_dir: Path, processor: str, metrics_port: int
) -> Path:
    path.write_text(
        f"""\
apiVersion: event-router.vmware.com/v1alpha1
kind: RouterConfig
metadata:
  name: {path.stem}
eventProvider:
  type: vcenter
  name: vcsim
  vcenter:
    address: {sim.address}
    insecureSSL: true
    checkpoint: true
    checkpointDir: {checkpoint_dir}
    auth:
      type: basic_auth
      basicAuth:
        username: {sim.username}
        password: {sim.password}
eventProcessor:
{processor}
metricsProvider:
  type: default
  name: metrics
  default:
    bindAddress: 127.0.0.1:{metrics_port}
    auth:
      type: basic_auth
      basicAuth:
        username: admin
        password: {METRICS_PASSWORD}
"""
    )
    return path


def openfaas_section(gateway: Gateway) -> str:
    return f"""\
  type: openfaas
  name: gateway
  openfaas:
    address: {gateway.url}
    async: false
    auth:
      type: basic_auth
      basicAuth:
        username: admin
        password: {GATEWAY_PASSWORD}"""


def eventbridge_section(aws: EventBridgeStack) -> str:
    return f"""\
  type: aws_event_bridge
  name: aws
  awsEventBridge:
    eventBus: {aws.bus}
    region: {REGION}
    ruleARN: {aws.rule_arn}
    auth:
      type: aws_access_key
      awsAccessKeyAuth:
        accessKey: AKIALISTENTEST
        secretKey: listen-secret-key"""


KNATIVE_SECTION = """\
  type: knative
  name: broker
  knative:
    encoding: structured
    insecureSSL: false
    destination:
      ref:
        apiVersion: eventing.knative.dev/v1
        kind: Broker
        name: rabbit
        namespace: default"""


class Listener:
    """One `veba listen` process (restartable)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "veba_sdk.source", *self.args],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return int(self.process.returncode)


@pytest.fixture
def aws() -> Iterator[EventBridgeStack]:
    stack = EventBridgeStack(PATTERN)
    yield stack
    stack.close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway(
        {"audit": f"{TOPIC},{WARMUP}", "mirror": TOPIC, "other": "VmPoweredOnEvent"},
        password=GATEWAY_PASSWORD,
    )
    yield g
    g.close()


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker()
    yield b
    b.close()


def post(poster: Poster, type_id: str, message: str) -> None:
    poster.em.PostEvent(
        vim.event.EventEx(eventTypeId=type_id, severity="info", message=message, **poster._base())
    )


def first_seen(messages: list[str]) -> list[int]:
    """Indices of the kill events in order of first arrival (repeats dropped)."""
    seen: list[int] = []
    known: set[int] = set()
    for message in messages:
        if message.isdigit() and int(message) not in known:
            known.add(int(message))
            seen.append(int(message))
    return seen


def test_every_processor_gets_every_event_in_order_across_sigkill(
    vcsim: Vcsim,
    gateway: Gateway,
    aws: EventBridgeStack,
    broker: Broker,
    tmp_path: Path,
    subprocess_env: dict[str, str],
) -> None:
    gateway.fail_every = (7, [503, 429])
    broker.fail_every = 9
    aws.proxy.fail_calls_every = 11
    ports = {name: free_port() for name in ("openfaas", "aws", "knative")}
    configs = {
        "openfaas": router_config(
            tmp_path / "openfaas.yaml",
            vcsim,
            tmp_path / "cp-openfaas",
            openfaas_section(gateway),
            ports["openfaas"],
        ),
        "aws": router_config(
            tmp_path / "aws.yaml",
            vcsim,
            tmp_path / "cp-aws",
            eventbridge_section(aws),
            ports["aws"],
        ),
        "knative": router_config(
            tmp_path / "knative.yaml",
            vcsim,
            tmp_path / "cp-knative",
            KNATIVE_SECTION,
            ports["knative"],
        ),
    }
    env = {**subprocess_env, "AWS_ENDPOINT_URL": aws.proxy.url}
    common = ["--poll-interval", "0.02"]
    listeners = {
        name: Listener(
            [
                "--config",
                str(path),
                *common,
                *(["--target", broker.url] if name == "knative" else []),
            ],
            env,
            tmp_path / f"{name}.log",
        )
        for name, path in configs.items()
    }
    aws_events: list[dict[str, Any]] = []
    everything: list[dict[str, Any]] = []

    def gateway_messages(function: str) -> list[str]:
        return [str(i.event["data"].get("Message", "")) for i in gateway.accepted(function)]

    def aws_messages() -> list[str]:
        aws_events.extend(aws.drain("matched"))
        return [str(e["detail"]["data"].get("Message", "")) for e in aws_events]

    def broker_messages() -> list[str]:
        return [str(data.get("Message", "")) for _, data in broker.accepted()]

    streams: dict[str, Callable[[], list[str]]] = {
        "openfaas audit": lambda: gateway_messages("audit"),
        "openfaas mirror": lambda: gateway_messages("mirror"),
        "eventbridge": aws_messages,
        "knative broker": broker_messages,
    }

    def delivered(stream: str) -> int:
        return len(first_seen(streams[stream]()))

    poster = Poster(vcsim)
    try:
        for listener in listeners.values():
            listener.start()
        # Warm up until every process streams.
        deadline = time.monotonic() + 60
        while not (
            "warm" in gateway_messages("audit")
            and "warm" in aws_messages()
            and "warm" in broker_messages()
        ):
            assert time.monotonic() < deadline, "a listen process never delivered"
            post(poster, WARMUP, "warm")
            time.sleep(0.3)
        posted = 0
        # Kill once every processor has taken 40 events. A loaded machine delivers slowly: stop
        # posting at TOTAL - 80 and wait, so events remain for the dead and restarting phases.
        deadline = time.monotonic() + 120
        while min(delivered(s) for s in streams) < 40:
            assert time.monotonic() < deadline, "the processors never took 40 events"
            if posted >= TOTAL - 80:
                time.sleep(0.05)
                continue
            post(poster, TOPIC, str(posted))
            if posted % 25 == 0:
                poster.post("exit")  # matches no subscription, no rule pattern
            posted += 1
            time.sleep(0.01)
        for listener in listeners.values():
            listener.kill()
        killed_at = posted
        while posted < killed_at + 40:  # while they are dead
            post(poster, TOPIC, str(posted))
            posted += 1
        for listener in listeners.values():
            listener.start()
        while posted < TOTAL:  # and while they restart
            post(poster, TOPIC, str(posted))
            posted += 1
        for stream in streams:

            def arrived(s: str = stream) -> bool:
                return delivered(s) >= posted

            wait_until(arrived, 120, f"{posted} events at {stream}")
        # The metrics provider of a running process.
        stats = httpx.get(
            f"http://127.0.0.1:{ports['openfaas']}/stats", auth=("admin", METRICS_PASSWORD)
        ).json()["vmware.event.router.stats"]
        denied = httpx.get(f"http://127.0.0.1:{ports['openfaas']}/stats").status_code
        metrics = httpx.get(
            f"http://127.0.0.1:{ports['aws']}/metrics", auth=("admin", METRICS_PASSWORD)
        ).text
    finally:
        poster.close()
        codes = {name: listener.stop() for name, listener in listeners.items()}
    assert codes == {"openfaas": 0, "aws": 0, "knative": 0}
    assert killed_at < TOTAL, "the kill landed mid-stream"
    for stream, messages in streams.items():
        assert first_seen(messages()) == list(range(posted)), stream
    # 503 and 429 answers were retried: both functions have every event, repeats are rare.
    failed = [i for i in gateway.invocations if i.status >= 300]
    assert {i.status for i in failed} == {503, 429}
    assert not [i for i in gateway.invocations if i.function == "other"]
    assert 503 in {status for _, _, status in broker.requests}
    assert aws.proxy.failed_calls > 0
    # The events posted while the processes were dead came in one page: batches of 10.
    assert max(len(call) for call in aws.proxy.put_calls) == 10
    # Unmatched events (ExitMaintenanceModeEvent) were never put on the bus.
    everything.extend(aws.drain("everything"))
    assert {e["detail-type"] for e in everything} <= {TOPIC, WARMUP}
    assert {e["detail-type"] for e in aws_events} <= {TOPIC, WARMUP}
    assert all(e["source"] == vcsim.address for e in aws_events)
    # The broker got structured CloudEvents of the router's shape.
    kinds = {(a["type"], a["subject"]) for a, _ in broker.accepted()}
    assert ("com.vmware.event.router/eventex", TOPIC) in kinds
    assert ("com.vmware.event.router/event", "ExitMaintenanceModeEvent") in kinds
    # /stats after the restart: this process's own counts.
    assert denied == 401
    assert stats["vcenter"]["events_total"] > 0
    invocations = stats["openfaas"]["invocations"][TOPIC]
    assert invocations["SuccessCount"] > 0
    assert set(stats) == {"vcenter", "openfaas"}
    for name in listeners:
        log = (tmp_path / f"{name}.log").read_text()
        for secret in ("listen-secret-key", GATEWAY_PASSWORD, METRICS_PASSWORD):
            assert secret not in log, (name, secret)
    json.dumps(stats)
    labels = f'outcome="success",processor="aws_event_bridge",subject="{TOPIC}"'
    assert f"veba_listen_invocations_total{{{labels}}}" in metrics
