"""The HTTP binding's encoders: what they write, our decoder and the cloudevents SDK read back."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from cloudevents.http import from_http

from veba_sdk.events import decode_http
from veba_sdk.events.http import (
    Mode,
    dumps_json,
    encode_binary,
    encode_cloudevent,
    encode_structured,
    structured_document,
)
from veba_sdk.testing import make_event, to_cloudevent

ATTRIBUTES = {
    "specversion": "1.0",
    "id": "42",
    "source": "https://vc01.example/sdk",
    "type": "com.example.handled",
    "subject": 'Väst Host 01 "quoted" 100%',
}


def test_binary_json_is_read_back_by_our_decoder_and_the_sdk() -> None:
    data = {"Host": {"Name": "esx-01"}, "when": "now"}
    headers, body = encode_binary(ATTRIBUTES, data)
    assert headers["content-type"] == "application/json"
    assert headers["ce-subject"] == "V%C3%A4st%20Host%2001%20%22quoted%22%20100%25"
    assert json.loads(body) == data
    assert decode_http(headers, body).attributes["subject"] == ATTRIBUTES["subject"]
    sdk = from_http(headers, body)  # the 1.x SDK leaves header values percent-encoded
    assert (sdk["id"], sdk["type"], sdk.data) == ("42", "com.example.handled", data)


@pytest.mark.parametrize(
    ("data", "content_type", "body"),
    [
        (None, None, b""),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        ("tschüss", "text/plain; charset=utf-8", "tschüss".encode()),
        ([1, 2], "application/json", b"[1,2]"),
    ],
)
def test_binary_data_kinds(data: Any, content_type: str | None, body: bytes) -> None:
    headers, encoded = encode_binary(ATTRIBUTES, data)
    assert headers.get("content-type") == content_type
    assert encoded == body
    assert "ce-datacontenttype" not in headers


def test_binary_declared_content_type_wins_and_none_attributes_are_left_out() -> None:
    attributes = dict(ATTRIBUTES, datacontenttype="application/xml", dataschema=None)
    headers, body = encode_binary(attributes, "<a/>")
    assert headers["content-type"] == "application/xml"
    assert "ce-dataschema" not in headers
    assert body == b"<a/>"


def test_structured_round_trips_and_bytes_go_in_data_base64() -> None:
    headers, body = encode_structured(ATTRIBUTES, b"\xff\x00")
    assert headers == {"content-type": "application/cloudevents+json; charset=utf-8"}
    document = json.loads(body)
    assert document["datacontenttype"] == "application/octet-stream"
    assert base64.b64decode(document["data_base64"]) == b"\xff\x00"
    assert from_http(headers, body).data == b"\xff\x00"
    text = structured_document(ATTRIBUTES, "hi")
    assert (text["datacontenttype"], text["data"]) == ("text/plain", "hi")
    assert "data" not in structured_document(ATTRIBUTES, None)


def test_a_vcenter_event_round_trips_through_decode_http() -> None:
    event = make_event("EnteredMaintenanceModeEvent", host="esx-07")
    sent_headers, sent_body = to_cloudevent(event, producer="vsphere-source")
    envelope = decode_http(sent_headers, sent_body)
    modes: tuple[Mode, ...] = ("binary", "structured")
    for mode in modes:
        headers, body = encode_cloudevent(envelope.attributes, envelope.data, mode)
        again = decode_http(headers, body)
        assert again.name == "EnteredMaintenanceModeEvent"
        assert again.event == envelope.event
        assert again.attributes["id"] == envelope.attributes["id"]


def test_encode_cloudevent_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="binary or structured"):
        encode_cloudevent(ATTRIBUTES, None, "batch")  # type: ignore[arg-type]  # wrong on purpose


def test_dumps_json_writes_dates_bytes_and_sets() -> None:
    value = {"at": datetime.date(2026, 12, 6), "raw": b"\x01", "tags": {"a"}, "é": "ü"}
    assert json.loads(dumps_json(value)) == {
        "at": "2026-12-06",
        "raw": "AQ==",
        "tags": ["a"],
        "é": "ü",
    }
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_json(_circular())


def _circular() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop
