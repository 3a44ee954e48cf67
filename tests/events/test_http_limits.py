"""What the decoder refuses before any cache sees it (issue 18, items 1 and 5).

* ``specversion``: exactly what the ``cloudevents`` SDK accepts (``1.0`` and ``0.3``), in binary,
  structured and batch mode and through ``from_cloudevent``; each refusal is one line naming
  the field, and the SDK refuses the same values.
* Event names from the wire (router ``subject``, VSphereSource ``type``) are at most
  :data:`MAX_NAME` characters, and the caches that hold names or header names keep only short
  ones, so what an untrusted name can cost is bounded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import from_http

from veba_sdk import InvalidEvent, Router
from veba_sdk.events import _envelope, decode_http, decode_http_batch, from_cloudevent
from veba_sdk.events import http as _http
from veba_sdk.events._envelope import MAX_NAME, SPEC_VERSIONS

EVENTS = Path(__file__).parent.parent / "fixtures" / "veba-events"
DATA = json.loads(
    (EVENTS / "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json").read_text()
)
BODY = json.dumps(DATA).encode()
SOURCE_TYPE = "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
ROUTER_TYPE = "com.vmware.event.router/event"
# What the probe of issue 18 sent, and neighbours of the accepted values.
BAD_VERSIONS = ["2.0", "0.3.0", "1.0.0", "1", "\x00", "1.0\x00", " 1.0", "1.0 ", "v1.0", "1.00"]


def binary(version: str, **extra: str) -> dict[str, str]:
    headers = {
        "ce-specversion": version,
        "ce-id": "1",
        "ce-source": "https://vc01/sdk",
        "ce-type": SOURCE_TYPE,
        "content-type": "application/json",
    }
    headers.update({f"ce-{k}": v for k, v in extra.items()})
    return headers


def structured(version: str, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": version,
        "id": "1",
        "source": "https://vc01/sdk",
        "type": SOURCE_TYPE,
        "data": DATA,
        **extra,
    }


def attributes(version: str) -> dict[str, Any]:
    """The attributes of :func:`structured`, for ``from_cloudevent(attributes, data)``."""
    return {k: v for k, v in structured(version).items() if k != "data"}


def percent(text: str) -> str:
    """A header value as the HTTP binding encodes it (a NUL cannot travel raw)."""
    from urllib.parse import quote

    return quote(text, safe="")


def assert_refused(info: pytest.ExceptionInfo[InvalidEvent], field: str, *words: str) -> None:
    text = str(info.value)
    assert info.value.field == field, text
    assert "\n" not in text
    assert "\x00" not in text
    for word in words:
        assert word in text


# -- specversion ---------------------------------------------------------------------------------


def test_the_accepted_versions_are_the_sdks() -> None:
    from cloudevents.conversion import _obj_by_version  # 1.x's table of event classes

    assert set(SPEC_VERSIONS) == set(_obj_by_version)


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_accepted_versions_decode_in_every_mode(version: str) -> None:
    assert decode_http(binary(version), BODY).name == "EnteredMaintenanceModeEvent"
    raw = [(k.encode(), v.encode()) for k, v in binary(version).items()]
    assert decode_http(raw, BODY).attributes["specversion"] == version
    body = json.dumps(structured(version)).encode()
    assert decode_http({"content-type": "application/cloudevents+json"}, body).name
    batch = json.dumps([structured(version), structured(version, id="2")]).encode()
    events = decode_http_batch({"content-type": "application/cloudevents-batch+json"}, batch)
    assert [e.id for e in events] == ["1", "2"]
    assert from_cloudevent(attributes(version), DATA).name == "EnteredMaintenanceModeEvent"


@pytest.mark.parametrize("version", BAD_VERSIONS, ids=repr)
def test_other_versions_are_refused_in_binary_mode(version: str) -> None:
    for headers in (
        binary(percent(version)),
        [(k.encode(), v.encode()) for k, v in binary(percent(version)).items()],
    ):
        with pytest.raises(InvalidEvent) as info:
            decode_http(headers, BODY)
        assert_refused(info, "specversion", "specversion", "1.0 or 0.3")


@pytest.mark.parametrize("version", BAD_VERSIONS, ids=repr)
def test_other_versions_are_refused_in_structured_batch_and_from_cloudevent(
    version: str,
) -> None:
    body = json.dumps(structured(version)).encode()
    for content_type in ("application/cloudevents+json", "application/json", None):
        headers = {"content-type": content_type} if content_type else {}
        with pytest.raises(InvalidEvent) as info:
            decode_http(headers, body)
        assert_refused(info, "specversion", "specversion")
    batch = json.dumps([structured("1.0"), structured(version, id="2")]).encode()
    with pytest.raises(InvalidEvent) as info:
        decode_http_batch({"content-type": "application/cloudevents-batch+json"}, batch)
    assert_refused(info, "specversion", "batch item 1", "specversion")
    with pytest.raises(InvalidEvent) as info:
        from_cloudevent(attributes(version), DATA)
    assert_refused(info, "specversion", "specversion")


@pytest.mark.parametrize("version", [*BAD_VERSIONS, *SPEC_VERSIONS], ids=repr)
def test_the_sdk_refuses_exactly_what_the_decoder_refuses(version: str) -> None:
    headers = binary(percent(version))
    try:
        from_http(headers, BODY)
        sdk_accepts = True
    except Exception:  # the SDK's own exception classes differ between majors
        sdk_accepts = False
    try:
        decode_http(headers, BODY)
        ours = True
    except InvalidEvent:
        ours = False
    assert ours == sdk_accepts == (version in SPEC_VERSIONS)


def test_a_long_or_non_text_version_is_named_briefly() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_http(binary("9" * 5000), BODY)
    assert len(str(info.value)) < 120
    with pytest.raises(InvalidEvent) as info:
        from_cloudevent(attributes(1.0), DATA)  # type: ignore[arg-type]  # a JSON number
    assert_refused(info, "specversion", "specversion")


# -- event names ---------------------------------------------------------------------------------


def test_the_limit_has_room_for_every_real_name() -> None:
    from veba_sdk.events import event_class_names

    longest_class = max(map(len, event_class_names()))
    longest_type_id = len(
        "com.vmware.vcIntegrity.HostUpgradePrecheckTestFailEESXInsufficientSpaceForImage"
    )
    assert longest_class == 40
    assert 3 * max(longest_class, longest_type_id) <= MAX_NAME


@pytest.mark.parametrize("mode", ["router-subject", "vsphere-type"])
def test_names_up_to_the_limit_decode_and_longer_ones_are_refused(mode: str) -> None:
    def headers(name: str) -> dict[str, str]:
        if mode == "router-subject":
            return dict(binary("1.0", type=ROUTER_TYPE, subject=name))
        return binary("1.0", type=f"com.vmware.vsphere.{name}.v0")

    longest = "com.vmware.vc." + "x" * (MAX_NAME - len("com.vmware.vc."))
    assert decode_http(headers(longest), BODY).name == longest
    field = "subject" if mode == "router-subject" else "type"
    for length in (MAX_NAME + 1, 1 << 20):
        with pytest.raises(InvalidEvent) as info:
            decode_http(headers("y" * length), BODY)
        assert_refused(info, field, f"{length} characters", f"{MAX_NAME} character limit")
        attrs = {k[3:]: v for k, v in headers("y" * length).items() if k.startswith("ce-")}
        with pytest.raises(InvalidEvent):  # structured: the same check
            from_cloudevent(attrs, DATA)


def test_the_split_cache_keeps_only_bounded_names() -> None:
    for index in range(3 * _envelope._MAX_SPLIT):
        name = f"com.vmware.vc.{index}." + "z" * (MAX_NAME - 30)
        decode_http(binary("1.0", type=ROUTER_TYPE, subject=name), BODY)
        with pytest.raises(InvalidEvent):
            decode_http(binary("1.0", type=ROUTER_TYPE, subject=name * 40), BODY)
        # valid events whose other keyed attributes are large: decoded, never kept
        big = f"{index}" + "w" * 50_000
        assert decode_http(binary("1.0", subject=big), BODY).name == "EnteredMaintenanceModeEvent"
        router = binary("1.0", type=ROUTER_TYPE, subject="EnteredMaintenanceModeEvent")
        router["ce-eventclass"] = big
        assert decode_http(router, BODY).name == "EnteredMaintenanceModeEvent"
    assert len(_envelope._SPLIT) <= _envelope._MAX_SPLIT
    longest_key_part = max(len(part or "") for key in _envelope._SPLIT for part in key)
    assert longest_key_part <= max(MAX_NAME, len(SOURCE_TYPE))


def test_the_route_cache_keeps_no_name_over_the_limit() -> None:
    router = Router()

    @router.on("com.vmware.vc.*")
    def handler(event: Any) -> None:
        raise AssertionError("not dispatched here")

    long_name = "com.vmware.vc." + "q" * 10_000
    assert router.handlers_for(long_name, "eventex") == router.routes
    assert all(len(key[0]) <= MAX_NAME for key in router._cache)
    for index in range(5000):
        router.handlers_for(f"com.vmware.vc.{index}", "eventex")
    assert len(router._cache) <= 4096


# -- header names --------------------------------------------------------------------------------


def test_known_header_names_are_read_from_the_start() -> None:
    for name in (b"ce-specversion", b"ce-id", b"ce-source", b"ce-type", b"ce-subject",
                 b"ce-eventclass", b"ce-vsphereapiversion", b"content-type", b"host"):  # fmt: skip
        assert name in _http._HEADER_NAMES


def test_long_header_names_are_read_but_never_kept() -> None:
    before = dict(_http._HEADER_NAMES)
    raw = [(k.encode(), v.encode()) for k, v in binary("1.0").items()]
    for index in range(2 * _http._MAX_HEADER_NAMES):
        long_ce = f"ce-x{index}".encode() + b"a" * 4096
        long_other = f"x-{index}-".encode() + b"b" * 4096
        envelope = decode_http([*raw, (long_ce, b"kept"), (long_other, b"v")], BODY)
        assert envelope.attributes[long_ce[3:].decode()] == "kept"
    assert len(_http._HEADER_NAMES) <= _http._MAX_HEADER_NAMES
    assert all(len(name) <= _http._MAX_CACHED_NAME for name in _http._HEADER_NAMES)
    assert sum(sys.getsizeof(k) for k in _http._HEADER_NAMES) < 64 * 1024
    assert {k: v for k, v in _http._HEADER_NAMES.items() if k in before} == before


def test_a_full_header_cache_still_reads_new_names() -> None:
    for index in range(2 * _http._MAX_HEADER_NAMES):  # fill it with junk first
        decode_http([(f"x-junk-{index}".encode(), b"v"), *_raw(binary("1.0"))], BODY)
    envelope = decode_http([*_raw(binary("1.0")), (b"ce-neverseenbefore", b"yes")], BODY)
    assert envelope.attributes["neverseenbefore"] == "yes"


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


# -- idempotency keys ------------------------------------------------------------------------------


def test_long_idempotency_keys_are_kept_as_a_digest_and_still_deduplicate() -> None:
    from veba_sdk import InMemoryIdempotencyStore
    from veba_sdk._router import idempotency_key

    store = InMemoryIdempotencyStore()
    router = Router(idempotency=store)
    ran: list[str] = []

    @router.on("EnteredMaintenanceModeEvent")
    def handler(event: Any) -> None:
        ran.append("ran")

    short = decode_http(binary("1.0"), BODY)
    assert short.event.created_time is not None
    created = short.event.created_time.isoformat()
    assert idempotency_key(short) == f"https://vc01/sdk#{DATA['Key']}@{created}"
    for index in range(50):
        source = f"https://vc01/{index}/" + "s" * 200_000
        envelope = decode_http(binary("1.0", source=source), BODY)
        key = idempotency_key(envelope)
        assert key.startswith("sha256:")
        assert len(key) == len("sha256:") + 64
        router.dispatch(envelope)
        router.dispatch(decode_http(binary("1.0", source=source), BODY))  # a redelivery
    assert len(ran) == 50
    assert all(len(key) <= 512 for key in store._records)
