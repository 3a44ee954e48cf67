"""The alarm notifier through the Knative ASGI app, posting to a real chat receiver on loopback.

The receiver is a tiny ``http.server`` on 127.0.0.1 in a thread that records every POST and
answers with a status the test chooses.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from veba_sdk.events import parse_event
from veba_sdk.testing import Mode, Producer, make_event, to_cloudevent

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the examples package lives at the repository root
    sys.path.insert(0, str(ROOT))

from asgi_post import post  # noqa: E402

from examples.alarm_notifier.knative_app import app  # noqa: E402

FIXTURE = (
    ROOT
    / "tests/fixtures/veba-events"
    / "AlarmStatusChangedEvent__data-only__kn-pcli-datastore-usage-email.json"
)


class Receiver(ThreadingHTTPServer):
    """A chat webhook stand-in: records ``(path, headers, JSON body)`` of every POST."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.status = 200

    @property
    def url(self) -> str:
        """The webhook URL, with a path and query like real chat webhooks."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1/spaces/AAAA/messages?key=k&token=t"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length))
        self.server.posts.append((self.path, dict(self.headers.items()), body))
        payload = b'{"name": "spaces/AAAA/messages/1"}'
        self.send_response(self.server.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A running receiver whose URL is the function's ``WEBHOOK_URL``."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    monkeypatch.setenv("WEBHOOK_URL", server.url)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _post(headers: dict[str, str], body: bytes) -> httpx.Response:
    """POST one request to the Knative ASGI app, in process."""
    return post(app, headers, body)


def _alarm(to: str, **overrides: Any) -> Any:
    """An AlarmStatusChangedEvent for a host alarm, yellow -> ``to``."""
    return make_event(
        "AlarmStatusChangedEvent",
        alarm={"name": "Host CPU usage"},
        entity={"name": "esx01.lab.local", "entity": {"type": "HostSystem", "value": "host-19"}},
        from_="yellow",
        to=to,
        **overrides,
    )


@pytest.mark.parametrize(
    ("producer", "mode"),
    [("router", "binary"), ("router", "structured"), ("vsphere-source", "binary")],
)
def test_red_posts_one_message_with_alarm_and_entity(
    receiver: Receiver, producer: Producer, mode: Mode
) -> None:
    """yellow -> red: exactly one JSON ``{"text": ...}`` post naming the alarm and entity."""
    headers, body = to_cloudevent(_alarm("red"), producer=producer, mode=mode)

    response = _post(headers, body)

    assert response.status_code == 200, response.text
    assert len(receiver.posts) == 1
    path, sent_headers, posted = receiver.posts[0]
    assert path == "/v1/spaces/AAAA/messages?key=k&token=t"
    assert sent_headers["Content-Type"] == "application/json"
    assert set(posted) == {"text"}
    text = posted["text"]
    assert "'Host CPU usage'" in text
    assert "esx01.lab.local" in text
    assert "from yellow to red" in text
    assert response.json() == {"posted": text}


def test_captured_vcenter_payload_turning_red(receiver: Receiver) -> None:
    """The captured datastore alarm from VEBA's samples, with its transition set to red."""
    payload = json.loads(FIXTURE.read_bytes())
    payload["To"] = "red"
    headers, body = to_cloudevent(parse_event(payload, name="AlarmStatusChangedEvent"))

    response = _post(headers, body)

    assert response.status_code == 200, response.text
    (_path, _headers, posted) = receiver.posts[0]
    assert len(receiver.posts) == 1
    assert "'Datastore usage on disk' on ProdDatastore1 changed from gray to red" in posted["text"]


@pytest.mark.parametrize("to", ["yellow", "green", "gray", ""])
def test_other_transitions_post_nothing(receiver: Receiver, to: str) -> None:
    """Only red notifies: any other transition is acknowledged (2xx) without a post."""
    headers, body = to_cloudevent(_alarm(to))

    response = _post(headers, body)

    assert response.is_success, response.text
    assert receiver.posts == []


def test_other_events_post_nothing(receiver: Receiver) -> None:
    """Events the notifier does not route are acknowledged without a post."""
    headers, body = to_cloudevent(make_event("AlarmAcknowledgedEvent"))

    response = _post(headers, body)

    assert response.is_success, response.text
    assert receiver.posts == []


def test_receiver_failure_is_retryable(receiver: Receiver) -> None:
    """The webhook answers 500: the function answers 500 so the broker redelivers."""
    receiver.status = 500
    event = _alarm("red")
    headers, body = to_cloudevent(event)

    response = _post(headers, body)

    assert response.status_code == 500
    assert len(receiver.posts) == 1

    # The redelivery (same vCenter event, a new router CloudEvent id) succeeds, posting once more.
    receiver.status = 200
    headers, body = to_cloudevent(event)
    assert _post(headers, body).status_code == 200
    assert len(receiver.posts) == 2

    # A further redelivery after success is a duplicate: nothing is posted again.
    headers, body = to_cloudevent(event)
    assert _post(headers, body).is_success
    assert len(receiver.posts) == 2


def test_unreachable_webhook_is_retryable(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens at the webhook URL: a retryable 500, not a crash."""
    host, port = receiver.server_address[:2]
    receiver.shutdown()
    receiver.server_close()
    monkeypatch.setenv("WEBHOOK_URL", f"http://{host!s}:{port}/hook")
    headers, body = to_cloudevent(_alarm("red"))

    response = _post(headers, body)

    assert response.status_code == 500


def test_missing_webhook_url_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without ``WEBHOOK_URL`` a red alarm fails (retryable) and the reason is logged."""
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    headers, body = to_cloudevent(_alarm("red"))

    response = _post(headers, body)

    assert response.status_code == 500
    assert "notify (WebhookNotConfigured)" in response.text
    assert any("set WEBHOOK_URL" in r.getMessage() for r in caplog.records)
