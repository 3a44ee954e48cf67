"""The EventEx/ExtendedEvent type-id catalogue: complete against every release file, current,
loaded lazily, and what routes and make_event check names against."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from veba_sdk import RouteError, Router
from veba_sdk.events import EventEx, ExtendedEvent, decode_http, event_class_names, is_event_class
from veba_sdk.events.type_ids import (
    close_type_ids,
    is_type_id,
    release_titles,
    type_id_info,
    type_id_names,
)
from veba_sdk.testing import Producer, make_event, to_cloudevent

ROOT = Path(__file__).resolve().parents[2]
RELEASE_FILES = sorted((ROOT / "tests" / "fixtures" / "vcenter-event-mapping").glob("*.md"))
ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*(Standard|EventEx|ExtendedEvent)\s*\|")


def release_rows(path: Path) -> list[tuple[str, str]]:
    """``(EventId, EventType)`` of every row of one release file, read independently of the
    generator."""
    return [
        (found.group(1), found.group(2))
        for line in path.read_text(encoding="utf-8").splitlines()
        if (found := ROW.match(line))
    ]


def test_the_catalogue_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_eventex_catalogue.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout


def test_every_id_of_every_release_file_is_catalogued_with_its_kind() -> None:
    assert len(RELEASE_FILES) == len(release_titles()) == 16
    standard = 0
    type_ids: set[str] = set()
    for path in RELEASE_FILES:
        rows = release_rows(path)
        assert rows, path.name
        for event_id, kind in rows:
            if kind == "Standard":
                # Standard rows are the typed classes: every one is in the class catalogue.
                assert is_event_class(event_id), (path.name, event_id)
                standard += 1
                continue
            info = type_id_info(event_id)
            assert info is not None, (path.name, event_id)
            assert (path.stem, kind) in info.releases, (path.name, event_id)
            type_ids.add(event_id)
    assert standard > 6000
    # Nothing in the catalogue that no file lists.
    assert type_ids == set(type_id_names())
    assert len(type_ids) == 2008
    eight_u3 = release_rows(ROOT / "tests/fixtures/vcenter-event-mapping/vsphere-8.0u3.md")
    assert sum(kind != "Standard" for _, kind in eight_u3) == 1131 + 622


def test_entries_carry_description_kind_and_releases() -> None:
    info = type_id_info("com.vmware.vc.HA.ClusterFailoverActionCompletedEvent")
    assert info is not None
    assert info.description == "vSphere HA completed a failover action"
    assert info.kind == "ExtendedEvent"
    assert len(info.releases) == 16
    # An id that changed kind between releases: ExtendedEvent wins, both are recorded.
    changed = type_id_info("com.vmware.vc.vm.bipe.cryptoResumeError")
    assert changed is not None
    assert changed.kind == "ExtendedEvent"
    assert {kind for _, kind in changed.releases} == {"EventEx", "ExtendedEvent"}
    eventex = type_id_info("esx.problem.net.vmnic.linkstate.down")
    assert eventex is not None
    assert eventex.kind == "EventEx"
    assert type_id_info("com.example.not.an.id") is None


def misspell(rng: random.Random, name: str) -> str:
    """One typo: a character dropped, doubled, replaced, or two neighbours swapped."""
    while True:
        i = rng.randrange(len(name) - 1)
        op = rng.choice("dwrs")
        if op == "d":
            typo = name[:i] + name[i + 1 :]
        elif op == "w":
            typo = name[:i] + name[i] + name[i:]
        elif op == "r":
            typo = name[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + name[i + 1 :]
        else:
            typo = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        if typo != name and not is_type_id(typo) and not is_event_class(typo):
            return typo


def test_misspelled_ids_are_refused_with_the_right_suggestion() -> None:
    rng = random.Random(15)
    dotted = [n for n in type_id_names() if "." in n]
    for original in rng.sample(dotted, 50):
        typo = misspell(rng, original)
        with pytest.raises(RouteError) as caught:
            Router().on(typo)(lambda event: None)
        message = str(caught.value)
        assert f"did you mean {original!r}" in message, (typo, message)
        assert "uncatalogued=True" in message
        assert "\n" not in message
    assert close_type_ids("com.vmware.vc.HA.ClusterFailoverActionCompletedEvnt") == [
        "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"
    ]


def test_globs_matching_no_id_are_refused_with_a_corrected_glob() -> None:
    with pytest.raises(RouteError, match=r"did you mean 'com\.vmware\.vc\.HA\.\*'"):
        Router().on("com.vmware.vc.HAA.*")(lambda event: None)
    with pytest.raises(RouteError, match=r"did you mean 'esx\.problem\.vmfs\.\*'"):
        Router().on("esx.problm.vmfs.*")(lambda event: None)
    with pytest.raises(RouteError, match="matches no EventEx/ExtendedEvent type id"):
        Router().on("org.nothing.*")(lambda event: None)
    routes = Router()
    routes.on("com.vmware.vc.HA.*", "esx.problem.*", "vsan.health.test.*")(lambda event: None)
    assert [r.kind for r in routes.routes] == ["typeid-glob"] * 3


def test_uncatalogued_ids_route_when_asked_for() -> None:
    router = Router()
    got: list[str] = []
    router.on("com.example.vcenter10.NewThing", "com.example.*", uncatalogued=True)(
        lambda event: got.append(event.event_type_id)
    )
    event = make_event("com.example.vcenter10.NewThing")
    assert type(event).__name__ == "EventEx"
    for producer in ("router", "vsphere-source"):
        router.dispatch(decode_http(*to_cloudevent(event, producer)))
    assert got == ["com.example.vcenter10.NewThing"] * 4


def test_dotless_extended_event_ids_route_as_type_ids() -> None:
    router = Router()
    got: list[str] = []
    router.on("53001")(lambda event, ctx: got.append(ctx.category))
    assert router.routes[0].kind == "typeid"
    event = make_event("53001")
    assert type(event).__name__ == "ExtendedEvent"
    router.dispatch(decode_http(*to_cloudevent(event, "router")))
    assert got == ["extendedevent"]


@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_make_event_builds_the_class_the_releases_name(producer: Producer) -> None:
    router = Router()
    seen: list[tuple[str, str]] = []
    router.on("*.*")(lambda event, ctx: seen.append((type(event).__name__, ctx.category)))
    rng = random.Random(7)
    sample = rng.sample(type_id_names(), 40)
    for name in sample:
        info = type_id_info(name)
        assert info is not None
        event = make_event(name)
        assert type(event).__name__ == info.kind
        assert isinstance(event, (EventEx, ExtendedEvent))
        assert event.event_type_id == name
        envelope = decode_http(*to_cloudevent(event, producer))
        assert envelope.name == name
        assert type(envelope.event).__name__ == info.kind
        assert router.dispatch(envelope).matched == ("." in name)
        if info.description and info.description != name:
            assert event.full_formatted_message == info.description
    assert len(seen) == sum("." in name for name in sample)
    assert all(category == cls.lower() for cls, category in seen)


CODE = """
import json, sys
from veba_sdk import Router
router = Router()
router.on("VmPoweredOnEvent", "Vm*Event")(lambda event: None)
print(json.dumps("veba_sdk.events._eventex_ids" in sys.modules))
"""


def test_the_catalogue_loads_only_when_a_type_id_is_used() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) is False


def test_class_names_are_not_type_ids() -> None:
    assert not any(is_type_id(name) for name in event_class_names())


def test_dotless_ids_without_eventclass_take_the_catalogues_kind() -> None:
    from veba_sdk.adapters.aws_lambda import decode_event

    event = make_event("53001")
    headers, body = to_cloudevent(event, "vsphere-source")
    del headers["ce-eventclass"]
    envelope = decode_http(headers, body)
    assert (envelope.name, envelope.category) == ("53001", "extendedevent")
    assert type(envelope.event).__name__ == "ExtendedEvent"
    # A bare vCenter event through EventBridge, named by detail-type only.
    bare = {
        "detail-type": "53001",
        "source": "https://vc01.local/sdk",
        "id": "1",
        "detail": json.loads(body),
    }
    assert decode_event(bare).category == "extendedevent"
