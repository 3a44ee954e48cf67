"""decode_http under generated junk and mutations of real requests: an Envelope or a one-line
InvalidEvent, never any other exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payloads import VEBA_EVENTS, payload_of

from veba_sdk import InvalidEvent
from veba_sdk.events import Envelope, decode_http, decode_http_batch

FIXTURES = sorted(p for p in VEBA_EVENTS.glob("*.json") if not p.name.startswith("Horizon"))
BASE_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "910093",
    "ce-source": "https://vcenter.local/sdk",
    "ce-type": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0",
    "ce-eventclass": "event",
    "content-type": "application/json",
}
CONTENT_TYPES = [
    "application/json",
    "application/xml",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "text/plain",
    "text/html",
    "",
]


def _data(path: Any) -> bytes:
    return json.dumps(payload_of(json.loads(path.read_text()))).encode()


def _check(headers: Any, body: bytes) -> None:
    for decode in (decode_http, decode_http_batch):
        reason = None
        try:
            result = decode(headers, body)
        except InvalidEvent as exc:
            reason = str(exc)
        if reason is not None:
            assert reason
            assert "\n" not in reason
            continue
        envelopes = result if isinstance(result, list) else [result]
        assert all(isinstance(e, Envelope) for e in envelopes)


header_names = st.one_of(
    st.sampled_from([*BASE_HEADERS, "ce-subject", "ce-datacontenttype", "ce-time"]),
    st.text(min_size=1, max_size=20).map(lambda s: "ce-" + s),
)
header_values = st.one_of(st.text(max_size=60), st.sampled_from(["%zz", "%C0%A0", '"a\\"b"', ""]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.dictionaries(header_names, header_values, max_size=8), body=st.binary(max_size=300)
)
def test_junk_headers_and_bodies(headers: dict[str, str], body: bytes) -> None:
    _check(headers, body)


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=40)), max_size=8),
    body=st.binary(max_size=200),
)
def test_junk_raw_asgi_headers(pairs: list[tuple[bytes, bytes]], body: bytes) -> None:
    _check([(b"ce-specversion", b"1.0"), *pairs], body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fixture=st.sampled_from(FIXTURES),
    drop=st.sets(st.sampled_from(sorted(BASE_HEADERS))),
    content_type=st.sampled_from(CONTENT_TYPES),
    cut=st.integers(min_value=0, max_value=4000),
    flip=st.tuples(st.integers(min_value=0, max_value=4000), st.integers(0, 255)),
)
def test_mutated_real_requests(
    fixture: Any, drop: set[str], content_type: str, cut: int, flip: tuple[int, int]
) -> None:
    body = bytearray(_data(fixture))
    if body and flip[0] < len(body):
        body[flip[0]] = flip[1]
    body = body[: max(cut, 1)] if cut < len(body) else body
    headers = {k: v for k, v in BASE_HEADERS.items() if k not in drop}
    headers["content-type"] = content_type
    _check(headers, bytes(body))
    structured = json.dumps(
        {
            **{k[3:]: v for k, v in headers.items() if k.startswith("ce-")},
            "data": body.decode("latin-1"),
        }
    ).encode()
    _check({"content-type": "application/cloudevents+json"}, structured)
