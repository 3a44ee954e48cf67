"""The header-name lookup of the ASGI decoding path (``_read_headers``)."""

from __future__ import annotations

import pytest

from veba_sdk import InvalidEvent
from veba_sdk.events import http as _http
from veba_sdk.events.http import _MAX_HEADER_NAMES, _read_headers

BASE = [
    (b"ce-specversion", b"1.0"),
    (b"ce-id", b"1"),
    (b"ce-source", b"https://vc01.local/sdk"),
    (b"ce-type", b"com.vmware.vsphere.VmPoweredOnEvent.v0"),
    (b"content-type", b"application/json"),
]


def test_attributes_and_content_type_the_same_on_every_call() -> None:
    headers = [(b"host", b"x"), *BASE, (b"ce-datacontenttype", b"text/xml")]
    first = _read_headers(headers)
    assert _read_headers(headers) == first
    attributes, content_type = first
    assert content_type == "application/json"
    assert "datacontenttype" not in attributes  # Content-Type wins, per the binding
    assert attributes["id"] == "1"
    assert set(attributes) == {"specversion", "id", "source", "type"}


def test_upper_case_names_from_a_non_conforming_server() -> None:
    attributes, content_type = _read_headers([(b"CE-ID", b"7"), (b"Content-Type", b"a/b")])
    assert attributes == {"id": "7"}
    assert content_type == "a/b"


def test_a_non_ascii_name_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(InvalidEvent):
            _read_headers([(b"ce-\xc3\xa9", b"x")])


def test_the_lookup_stays_bounded_under_many_distinct_names() -> None:
    junk = [(f"x-junk-{i}".encode(), b"v") for i in range(2 * _MAX_HEADER_NAMES)]
    ce_junk = [(f"ce-ext{i}".encode(), b"v") for i in range(2 * _MAX_HEADER_NAMES)]
    attributes, _ = _read_headers([*junk, *ce_junk, *BASE])
    assert len(_http._HEADER_NAMES) <= _MAX_HEADER_NAMES
    assert attributes["ext999"] == "v"
    assert attributes["type"] == "com.vmware.vsphere.VmPoweredOnEvent.v0"


@pytest.mark.parametrize(
    "headers",
    [
        BASE,
        [(b"host", b"x"), *BASE, (b"content-length", b"12"), (b"ce-datacontenttype", b"a/b")],
        [(b"Content-Type", b"a/xml"), *BASE, (b"content-length", b"1"), (b"content-length", b"")],
        [*BASE, (b"ce-subject", b"%22quoted%22"), (b"ce-x", b'"a\\"b"'), (b"CE-ID", b"9")],
        [(b"content-type", b"application/cloudevents-batch+json; charset=utf-8")],
        [],
    ],
)
def test_read_asgi_headers_is_read_headers_plus_the_raw_values_the_app_reads(
    headers: list[tuple[bytes, bytes]],
) -> None:
    attributes, content_type, raw_type, raw_length = _http.read_asgi_headers(headers)
    assert (attributes, content_type) == _read_headers(headers)
    exact = {k: v for k, v in headers if k in (b"content-type", b"content-length")}
    assert raw_type == exact.get(b"content-type")
    assert raw_length == exact.get(b"content-length")


@pytest.mark.parametrize(
    "headers", [[*BASE, (b"ce-bad", b"\xff")], [*BASE, (b"ce-\xc3\xa9", b"x")], [(b"ce-p", b"%zz")]]
)
def test_read_asgi_headers_raises_what_read_headers_raises(
    headers: list[tuple[bytes, bytes]],
) -> None:
    with pytest.raises(InvalidEvent) as expected:
        _read_headers(headers)
    with pytest.raises(InvalidEvent) as got:
        _http.read_asgi_headers(headers)
    assert got.value.reason == expected.value.reason
