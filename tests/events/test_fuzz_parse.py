"""Junk and mutated real payloads: parse_event raises InvalidEvent or returns an Event."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payloads import VEBA_EVENTS, payload_of

from veba_sdk._errors import InvalidEvent
from veba_sdk.events import Event, parse_event, to_dict
from veba_sdk.events._catalogue import EVENTS

FIXTURES = [
    (p.name.split("__")[0].split("_")[0], payload_of(json.loads(p.read_bytes())))
    for p in sorted(VEBA_EVENTS.glob("*.json"))
]
NAMES = st.one_of(st.none(), st.sampled_from(sorted(EVENTS)), st.text(max_size=30))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(payload: Any, **kwargs: Any) -> None:
    try:
        ev = parse_event(payload, **kwargs)
    except InvalidEvent as exc:
        reason = str(exc)
        assert reason
        assert "\n" not in reason
        return
    assert isinstance(ev, Event)
    # Whatever was read, it can be written back.
    to_dict(ev)
    to_dict(ev, style="camel")


@FUZZ
@given(st.binary(max_size=300), NAMES)
def test_junk_bytes(data: bytes, name: str | None) -> None:
    check(data, name=name)
    check(b"<" + data, name=name, content_type="application/xml")


@FUZZ
@given(JSON_VALUES, NAMES)
def test_junk_json_values(value: Any, name: str | None) -> None:
    check(json.dumps(value).encode(), name=name)
    check(value, name=name)


@FUZZ
@given(st.sampled_from(FIXTURES), st.data())
def test_mutated_fixtures(fixture: tuple[str, Any], data: st.DataObject) -> None:
    name, payload = fixture
    if isinstance(payload, dict):
        payload = dict(payload)
        for _ in range(data.draw(st.integers(1, 4))):
            keys = sorted(payload) or ["Key"]
            key = data.draw(st.sampled_from(keys) | st.text(max_size=10))
            if data.draw(st.booleans()):
                payload[key] = data.draw(JSON_VALUES)
            else:
                payload.pop(key, None)
    body = json.dumps(payload).encode()
    cut = data.draw(st.integers(0, len(body)))
    check(payload, name=name)
    check(body, name=name)
    check(body[:cut], name=name)
    check(body.replace(b'"', b"'", data.draw(st.integers(0, 3))), name=name)
