"""The vCenter event source against govmomi's simulator on loopback.

Every test here starts a real simulator (tests/vcsim), injects events with pyvmomi
(PostEvent and real VM operations) and checks what reaches the delivery target.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from source_helpers import Poster, Receiver, Sink, Vcsim, wait_until

from veba_sdk.source import HttpTarget, SourceError, VCenterSource, source_from_config
from veba_sdk.source.checkpoint import CheckpointStore, checkpoint_path

pytestmark = [pytest.mark.simulator, pytest.mark.slow]


class Running:
    """A source running on a background thread; stopped and joined on exit."""

    def __init__(self, source: VCenterSource) -> None:
        self.source = source
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.source.run(handle_signals=False)
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def stop(self) -> None:
        self.source.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "source did not stop"
        if self.error is not None:
            raise self.error


def make_source(sim: Vcsim, deliver: Any, **options: Any) -> VCenterSource:
    options.setdefault("poll_interval", 0.02)
    options.setdefault("verify", False)
    options.setdefault("reconnect_wait_max", 0.5)
    options.setdefault("delivery_wait_max", 0.2)
    return VCenterSource(
        sim.address, username=sim.username, password=sim.password, deliver=deliver, **options
    )


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for run in started:
        run.source.stop()
        run.thread.join(30)


def start(running: list[Running], source: VCenterSource) -> Running:
    run = Running(source)
    running.append(run)
    wait_until(lambda: source.api_version != "", 10, "the source to connect")
    time.sleep(0.1)  # the collector exists once streaming began; events after this count
    return run


def test_thousand_mixed_events_in_key_order_each_once(
    vcsim: Vcsim, poster: Poster, running: list[Running]
) -> None:
    sink = Sink()
    run = start(running, make_source(vcsim, sink, page_size=100))
    expected_names = []
    for i in range(980):
        kind = Poster.KINDS[i % len(Poster.KINDS)]
        poster.post(kind, f"com.example.mixed.{i}" if kind in ("eventex", "extended") else "")
        expected_names.append(poster.event(kind).__class__.__name__)
    for _ in range(5):
        poster.power_cycle()  # 4 real events each: stopping, off, starting, on
    wait_until(lambda: len(sink.keys()) >= 1000, 60, "1,000 events")
    time.sleep(0.2)
    run.stop()
    keys = sink.keys()
    assert len(keys) == 1000
    assert keys == sorted(keys)
    assert len(set(keys)) == 1000
    assert keys[-1] - keys[0] == 999  # contiguous: nothing skipped
    names = sink.names()
    assert names.count("EnteredMaintenanceModeEvent") == 164
    assert names.count("VmStoppingEvent") == 5
    assert sum(n.startswith("com.example.mixed.") for n in names) == 2 * 163
    # payloads in the legacy govmomi shape
    attributes, data = next(e for e in sink.events if e[0]["subject"] == "DatastoreRenamedEvent")
    assert attributes["type"] == "com.vmware.event.router/event"
    assert attributes["time"] == data["CreatedTime"]
    assert data["CreatedTime"].endswith("Z")
    assert data["Ds"]["Datastore"]["Type"] == "Datastore"
    assert data["Datacenter"] == {
        "Name": "DC0",
        "Datacenter": {"Type": "Datacenter", "Value": "datacenter-2"},
    }
    assert (data["OldName"], data["NewName"], data["ChangeTag"], data["Vm"]) == ("a", "b", "", None)
    attributes, data = next(e for e in sink.events if e[0]["type"].endswith("/eventex"))
    assert attributes["subject"] == data["EventTypeId"]


def test_vsphere_source_shape_over_http_structured(
    vcsim: Vcsim, poster: Poster, receiver: Receiver, running: list[Running]
) -> None:
    target = HttpTarget(receiver.url, encoding="structured")
    start(running, make_source(vcsim, target, producer="vsphere-source"))
    poster.post("enter")
    poster.post("eventex", "com.vmware.vc.HA.DasHostFailedEvent")
    wait_until(lambda: len(receiver.handled) == 2, 10, "two events")
    first, second = (json.loads(body) for _, body, _ in receiver.requests)
    assert receiver.requests[0][0]["content-type"].startswith("application/cloudevents+json")
    assert first["type"] == "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
    assert first["id"] == str(first["data"]["Key"])
    assert (first["eventclass"], first["vsphereapiversion"]) == ("event", "6.5")
    assert first["data"]["Host"]["Host"] == {"Type": "HostSystem", "Value": "host-21"}
    assert second["type"] == "com.vmware.vsphere.com.vmware.vc.HA.DasHostFailedEvent.v0"
    assert second["eventclass"] == "eventex"
    target.close()


def test_http_500_three_times_then_200_nothing_skipped(
    vcsim: Vcsim, poster: Poster, receiver: Receiver, running: list[Running]
) -> None:
    receiver.script = [500, 500, 500]
    target = HttpTarget(receiver.url, encoding="binary")
    start(running, make_source(vcsim, target))
    poster.post("enter")
    poster.post("exit")
    wait_until(lambda: len(receiver.handled) == 2, 20, "both events")
    statuses = [status for _, _, status in receiver.requests]
    assert statuses == [500, 500, 500, 200, 200]
    ids = [headers["ce-id"] for headers, _, _ in receiver.requests]
    assert len(set(ids[:4])) == 1  # the same event, retried
    subjects = [headers["ce-subject"] for headers, _, _ in receiver.requests]
    assert subjects[3:] == ["EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"]
    assert receiver.handled == sorted(receiver.handled)
    target.close()


def test_client_error_is_retried_too(
    vcsim: Vcsim, poster: Poster, receiver: Receiver, running: list[Running]
) -> None:
    receiver.script = [404, 400, 429]
    target = HttpTarget(receiver.url)
    start(running, make_source(vcsim, target))
    poster.post("enter")
    wait_until(lambda: len(receiver.handled) == 1, 20, "the event")
    assert [status for _, _, status in receiver.requests] == [404, 400, 429, 200]
    target.close()


def test_session_expiry_reconnects(vcsim: Vcsim, poster: Poster, running: list[Running]) -> None:
    sink = Sink()
    source = make_source(vcsim, sink)
    start(running, source)
    poster.post("enter")
    wait_until(lambda: len(sink.keys()) == 1, 10, "the first event")
    source._si.content.sessionManager.Logout()  # the session expires under the source
    for _ in range(5):
        poster.post("exit")
    wait_until(
        lambda: sink.names().count("ExitMaintenanceModeEvent") == 5,
        20,
        "events after the session ended",
    )
    assert source.reconnects >= 1
    names = sink.names()
    # the new login is itself an event vCenter reports
    assert names.count("UserLoginSessionEvent") == 1
    assert names.count("EnteredMaintenanceModeEvent") == 1
    keys = sink.keys()
    assert keys == sorted(set(keys))


def test_simulator_restart_reconnects_and_continues(vcsim: Vcsim, running: list[Running]) -> None:
    sink = Sink()
    source = make_source(vcsim, sink)
    start(running, source)
    poster = Poster(vcsim)
    for i in range(10):
        poster.post("eventex", f"com.example.before.{i}")
    wait_until(
        lambda: sum(n.startswith("com.example.before.") for n in sink.names()) == 10,
        10,
        "events before the restart",
    )
    poster.close()
    vcsim.restart()  # same port; the new simulator has no event history
    wait_until(lambda: source.reconnects >= 1, 20, "the source to notice")
    poster = Poster(vcsim)
    for i in range(10):
        poster.post("eventex", f"com.example.after.{i}")
    wait_until(
        lambda: sum(n.startswith("com.example.after.") for n in sink.names()) == 10,
        30,
        "events after the restart",
    )
    poster.close()
    names = sink.names()
    assert [n for n in names if n.startswith("com.example.")] == [
        *(f"com.example.before.{i}" for i in range(10)),
        *(f"com.example.after.{i}" for i in range(10)),
    ]


def test_tls_verified_with_root_ca_and_refused_without(
    vcsim: Vcsim, running: list[Running]
) -> None:
    sink = Sink()
    with pytest.raises(SourceError, match="cannot verify"):
        make_source(vcsim, sink, verify=True).run(handle_signals=False)
    pem = Path(vcsim.cert_path).read_text()
    source = make_source(vcsim, sink, verify=True, root_cas=[pem])
    start(running, source)
    assert source.api_version == "6.5"


def test_bad_password_fails_fast(vcsim: Vcsim) -> None:
    source = VCenterSource(
        vcsim.address, username=vcsim.username, password="wrong", deliver=Sink(), verify=False
    )
    assert "wrong" not in repr(source)
    with pytest.raises(SourceError, match="rejected the login"):
        source.run(handle_signals=False)


def test_checkpoint_resume_in_process(
    vcsim: Vcsim, poster: Poster, tmp_path: Path, running: list[Running]
) -> None:
    sink = Sink()
    run = start(running, make_source(vcsim, sink, checkpoint_dir=str(tmp_path)))
    for _ in range(5):
        poster.post("enter")
    wait_until(lambda: len(sink.keys()) == 5, 10, "five events")
    run.stop()
    saved = CheckpointStore(checkpoint_path(tmp_path, "127.0.0.1")).load()
    assert saved is not None
    assert saved.last_event_key == sink.keys()[-1]
    assert saved.last_event_type == "EnteredMaintenanceModeEvent"
    for _ in range(3):
        poster.post("exit")  # while the source is down
    start(running, make_source(vcsim, sink, checkpoint_dir=str(tmp_path)))
    wait_until(
        lambda: sink.names().count("ExitMaintenanceModeEvent") == 3,
        10,
        "the events posted while down",
    )
    keys = sink.keys()
    assert keys == sorted(set(keys))  # nothing delivered twice
    assert sink.names().count("EnteredMaintenanceModeEvent") == 5


# -- the source as a process ------------------------------------------------------------


def write_config(path: Path, sim: Vcsim, uri: str, checkpoint_dir: Path) -> Path:
    path.write_text(
        f"""\
apiVersion: event-router.vmware.com/v1alpha1
kind: RouterConfig
metadata:
  name: test
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
  type: knative
  name: receiver
  knative:
    encoding: binary
    insecureSSL: false
    destination:
      uri: {uri}
metricsProvider:
  type: default
  name: metrics
  default:
    bindAddress: 127.0.0.1:0
"""
    )
    return path


PYTHON_M_SOURCE = (sys.executable, "-m", "veba_sdk.source")


def spawn(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*PYTHON_M_SOURCE, "--config", str(config), "--poll-interval", "0.02"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_stream(poster: Poster, receiver: Receiver) -> None:
    """Post warm-up events until one arrives: the source process is streaming."""
    deadline = time.monotonic() + 30
    while not receiver.markers("com.example.warmup"):
        assert time.monotonic() < deadline, "the source process never delivered"
        poster.post("eventex", "com.example.warmup")
        time.sleep(0.2)


def test_sigkill_mid_stream_then_restart_loses_nothing(
    vcsim: Vcsim,
    receiver: Receiver,
    tmp_path: Path,
    subprocess_env: dict[str, str],
) -> None:
    config = write_config(tmp_path / "config.yaml", vcsim, receiver.url, tmp_path / "cp")
    process = spawn(config, subprocess_env)
    poster = Poster(vcsim)
    try:
        wait_for_stream(poster, receiver)
        posted = 0
        while posted < 400 and len(receiver.markers("com.example.kill.")) < 100:
            poster.post("eventex", f"com.example.kill.{posted}")
            posted += 1
            time.sleep(0.005)  # let the source keep up, so the kill lands mid-stream
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        killed_at = posted
        while posted < 400:  # posted while the source is dead
            poster.post("eventex", f"com.example.kill.{posted}")
            posted += 1
        process = spawn(config, subprocess_env)
        while posted < 500:  # and while it restarts
            poster.post("eventex", f"com.example.kill.{posted}")
            posted += 1
        wait_until(lambda: len(receiver.markers("com.example.kill.")) >= 500, 60, "all 500 events")
        time.sleep(0.3)
    finally:
        poster.close()
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert process.returncode == 0
    assert killed_at < 400, "the kill landed mid-stream"
    # Handled exactly once (the receiver's dedupe set), in order, none lost.
    assert receiver.markers("com.example.kill.") == [f"com.example.kill.{i}" for i in range(500)]
    handled = receiver.handled
    assert handled == sorted(handled)
    assert receiver.deliveries >= len(handled)  # at least once: a few may repeat after the kill


def test_sigterm_stops_cleanly_with_a_valid_checkpoint(
    vcsim: Vcsim,
    poster: Poster,
    receiver: Receiver,
    tmp_path: Path,
    subprocess_env: dict[str, str],
) -> None:
    config = write_config(tmp_path / "config.yaml", vcsim, receiver.url, tmp_path / "cp")
    process = spawn(config, subprocess_env)
    try:
        wait_for_stream(poster, receiver)
        for _ in range(20):
            poster.post("eventex", "com.example.term")
        wait_until(lambda: len(receiver.markers("com.example.term")) == 20, 20, "20 events")
        receiver.script = [503] * 1000  # the target is now down: the source sits in backoff
        requests = len(receiver.requests)
        poster.post("exit")
        wait_until(lambda: len(receiver.requests) > requests + 1, 10, "failing attempts")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(10)
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    saved = CheckpointStore(checkpoint_path(tmp_path / "cp", "127.0.0.1")).load()
    assert saved is not None
    assert saved.last_event_key == receiver.handled[-1]  # the undelivered event is not in it


def test_source_from_config_in_process(
    vcsim: Vcsim, poster: Poster, tmp_path: Path, running: list[Running]
) -> None:
    config = write_config(tmp_path / "config.yaml", vcsim, "http://127.0.0.1:9/", tmp_path / "cp")
    sink = Sink()
    source = source_from_config(config, sink, poll_interval=0.02)
    assert source.store is not None
    assert source.store.path == tmp_path / "cp" / "cp-127.0.0.1.json"
    assert source.verify is False  # insecureSSL: true
    start(running, source)
    poster.post("enter")
    wait_until(lambda: len(sink.keys()) == 1, 10, "the event")
    assert sink.events[0][0]["source"] == vcsim.address
    store = source.store
    wait_until(lambda: store.load() is not None, 5, "the checkpoint")
