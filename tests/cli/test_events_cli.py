"""``veba events`` on type ids, and ``veba send`` of catalogued ids (the class the releases
name), received by a plain HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from veba_sdk.cli import main
from veba_sdk.events import EventEx, ExtendedEvent, HorizonEvent, decode_http
from veba_sdk.events.type_ids import matching


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_list_type_ids_with_kind_description_and_releases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "events", "list", "com.vmware.vc.HA.*")
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == len(matching("com.vmware.vc.HA.*")) > 50
    completed = next(line for line in lines if "ClusterFailoverActionCompletedEvent " in line)
    assert completed.split()[1] == "ExtendedEvent"
    assert "vSphere HA completed a failover action" in completed
    assert completed.endswith("[vCenter 6.7U3-8.0U3; VMC 1.9-1.20]")
    status, out, _ = run(capsys, "events", "list", "--type-ids", "5*")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == ["50001", "50003", "53001", "55001"]
    # Class globs still list classes only.
    status, out, _ = run(capsys, "events", "list", "Drs*PoweredOnEvent")
    assert out.split() == ["DrsVmPoweredOnEvent"]


def test_list_refuses_a_glob_matching_nothing_with_a_correction(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, "events", "list", "com.vmware.vc.HAA.*")
    assert status == 1
    assert "did you mean 'com.vmware.vc.HA.*'?" in err
    assert err.count("\n") == 1


def test_show_a_type_id(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "events", "show", "com.vmware.vc.vm.bipe.cryptoResumeError")
    assert status == 0, err
    assert out.startswith("com.vmware.vc.vm.bipe.cryptoResumeError  (ExtendedEvent)\n")
    assert "releases: vCenter 7.0U3-8.0; VMC 1.16-1.20" in out
    assert "  vCenter 8.0                EventEx\n" in out
    assert "  vCenter 7.0 Update 3       ExtendedEvent\n" in out
    assert '"EventTypeId": "com.vmware.vc.vm.bipe.cryptoResumeError"' in out
    status, _, err = run(capsys, "events", "show", "esx.problem.vmfs.heartbeat.timedot")
    assert status == 2
    assert "did you mean 'esx.problem.vmfs.heartbeat.timedout'?" in err


class Recorder(BaseHTTPRequestHandler):
    """Keeps every request's headers and body; answers 204."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Recorder.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[str]:
    Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("com.vmware.vc.HA.ClusterFailoverActionCompletedEvent", "extendedevent"),
        ("esx.problem.net.vmnic.linkstate.down", "eventex"),
        ("53001", "extendedevent"),
    ],
)
@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_send_builds_catalogued_ids_as_their_release_kind(
    capsys: pytest.CaptureFixture[str], receiver: str, name: str, kind: str, producer: str
) -> None:
    status, out, err = run(capsys, "send", name, "--producer", producer, "--to", receiver)
    assert status == 0, err
    assert out.startswith("204")
    [(headers, body)] = Recorder.received
    envelope = decode_http(headers, body)
    assert envelope.name == name
    assert envelope.category == kind
    assert isinstance(envelope.event, (EventEx, ExtendedEvent))
    assert envelope.event.event_type_id == name


def test_send_refuses_a_misspelled_id_unless_uncatalogued(
    capsys: pytest.CaptureFixture[str], receiver: str
) -> None:
    typo = "com.vmware.vc.HA.ClusterFailoverActionCompletedEvnt"
    status, _, err = run(capsys, "send", typo, "--to", receiver)
    assert status == 2
    assert "did you mean 'com.vmware.vc.HA.ClusterFailoverActionCompletedEvent'?" in err
    assert Recorder.received == []
    status, _, err = run(capsys, "send", "com.example.NewThing", "--uncatalogued", "--to", receiver)
    assert status == 0, err
    [(headers, body)] = Recorder.received
    assert decode_http(headers, body).category == "eventex"


@pytest.mark.parametrize(
    ("producer", "ce_type"),
    [
        ("router", "com.vmware.event.router/horizon.vlsi_userloggedin_rest.v0"),
        ("vsphere-source", "com.vmware.horizon.vlsi_userloggedin_rest.v0"),
    ],
)
def test_send_a_horizon_event(
    capsys: pytest.CaptureFixture[str], receiver: str, producer: str, ce_type: str
) -> None:
    status, _, err = run(
        capsys,
        "send",
        "horizon.VLSI_USERLOGGEDIN_REST",
        "--producer",
        producer,
        "--set",
        "user_id=S-1-5-21-7",
        "--to",
        receiver,
    )
    assert status == 0, err
    [(headers, body)] = Recorder.received
    assert headers["ce-type"] == ce_type
    envelope = decode_http(headers, body)
    assert envelope.name == "horizon.VLSI_USERLOGGEDIN_REST"
    assert isinstance(envelope.event, HorizonEvent)
    assert envelope.event.user_id == "S-1-5-21-7"
    status, _, err = run(
        capsys, "send", "horizon.X", "--encoding", "xml", "--producer", producer, "--to", receiver
    )
    assert status == 2
    assert "Horizon" in err
