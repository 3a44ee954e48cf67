"""The header-name lookup of the ASGI decoding path (``_read_headers``)."""

from __future__ import annotations

import pytest

from veba_sdk import InvalidEvent
from veba_sdk.events import _http
from veba_sdk.events._http import _MAX_HEADER_NAMES, _read_headers

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
