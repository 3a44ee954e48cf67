"""Lookups, maintenance, alerts, properties, events and the health check against FakeVrops."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from veba_sdk.testing import FakeVrops
from veba_sdk.vrops import (
    AmbiguousResource,
    AsyncVropsClient,
    VropsClient,
    VropsNotFound,
)

OTHER_VC = "0b7d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4"


def test_exact_name_wins_over_partial_matches_listed_first(
    fake: FakeVrops, client: VropsClient
) -> None:
    fake.add_host("esx010")
    fake.add_host("esx011")
    rid = fake.add_host("esx01")
    # The server's partial match really returns all three, exact one last:
    listed = [
        r.name
        for r in client.iter_resources("esx01", adapter_kind="VMWARE", resource_kind="HostSystem")
    ]
    assert listed == ["esx010", "esx011", "esx01"]
    host = client.find_host("esx01")
    assert host.identifier == rid
    assert host.name == "esx01"
    assert host.moref is not None
    assert host.vcenter_uuid == FakeVrops.DEFAULT_VCENTER_UUID


def test_no_exact_match_is_not_found(
    fake: FakeVrops, client: VropsClient, no_secrets: Callable[..., None]
) -> None:
    fake.add_host("esx010")
    fake.add_host("esx011")
    with pytest.raises(VropsNotFound) as info:
        client.find_host("esx01")
    assert "esx01" in str(info.value)
    no_secrets(info.value, client)


def test_several_exact_matches_are_ambiguous_and_listed(
    fake: FakeVrops, client: VropsClient, no_secrets: Callable[..., None]
) -> None:
    a = fake.add_host("esx01", "host-19")
    b = fake.add_host("esx01", "host-19", OTHER_VC)
    with pytest.raises(AmbiguousResource) as info:
        client.find_host("esx01")
    assert {m.identifier for m in info.value.matches} == {a, b}
    assert a in str(info.value)
    assert b in str(info.value)
    assert client.find_host("esx01", OTHER_VC).identifier == b
    no_secrets(info.value)


def test_find_host_by_moref_and_vcenter(fake: FakeVrops, client: VropsClient) -> None:
    a = fake.add_host("esx01", "host-19")
    b = fake.add_host("esx02", "host-19", OTHER_VC)
    assert client.find_host("host-19", FakeVrops.DEFAULT_VCENTER_UUID).identifier == a
    assert client.find_host("host-19", OTHER_VC).identifier == b
    with pytest.raises(AmbiguousResource):
        client.find_host("host-19")
    found = client.find_by_identifiers({"VMEntityObjectID": "host-19", "VMEntityVCID": OTHER_VC})
    assert [r.identifier for r in found] == [b]
    query = [c for c in fake.calls if "identifiers[VMEntityObjectID]" in dict(c.query)]
    assert query
    assert dict(query[0].query)["identifiers[VMEntityVCID]"] == FakeVrops.DEFAULT_VCENTER_UUID


def test_a_name_that_looks_like_a_moref_falls_back_to_the_name(
    fake: FakeVrops, client: VropsClient
) -> None:
    rid = fake.add_host("host-7", "host-1234")
    assert client.find_host("host-7").identifier == rid


def test_find_resource_by_kind_and_generic_listing(fake: FakeVrops, client: VropsClient) -> None:
    vm = fake.add_resource("web01", resource_kind="VirtualMachine")
    fake.add_resource("web011", resource_kind="VirtualMachine")
    fake.add_host("web01")
    assert client.find_resource("web01", resource_kind="VirtualMachine").identifier == vm
    assert len(client.find_resources("web01")) == 2
    with pytest.raises(AmbiguousResource):
        client.find_resource("web01")
    with pytest.raises(ValueError, match="identifiers"):
        client.find_resources(identifiers={"VMEntityObjectID": "vm-1"})


def test_pages_are_zero_based_and_fetched_lazily(
    fake: FakeVrops, make_client: Callable[..., VropsClient]
) -> None:
    client = make_client(page_size=2)
    for i in range(5):
        fake.add_host(f"esx{i}")
    fake.add_host("esx4")  # a second exact match, on the last page
    iterator = client.iter_resources("esx", adapter_kind="VMWARE", resource_kind="HostSystem")
    first = [next(iterator), next(iterator)]
    assert len(first) == 2
    assert (
        fake.counts[
            "GET /api/adapterkinds/{adapterKindKey}/resourcekinds/{resourceKindKey}/resources"
        ]
        == 1
    )
    rest = list(iterator)
    assert len(first) + len(rest) == 6
    pages = [dict(c.query)["page"] for c in fake.calls if c.route.endswith("/resources")]
    assert pages == ["0", "1", "2"]
    with pytest.raises(AmbiguousResource) as info:
        client.find_host("esx4")  # found across pages
    assert len(info.value.matches) == 2


def test_get_resource_and_maintenance_states(fake: FakeVrops, client: VropsClient) -> None:
    rid = fake.add_host("esx01")
    assert client.maintenance_state(rid).resource_state == "STARTED"
    client.mark_maintained(rid, duration=30)
    state = client.maintenance_state(rid)
    assert state.resource_state == "MAINTAINED"
    assert state.in_maintenance
    until = fake.maintained_until(rid)
    assert until is not None
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    assert abs((until - expected).total_seconds()) < 5
    client.mark_maintained(rid)
    resource = client.get_resource(rid)
    assert resource.state.resource_state == "MAINTAINED_MANUAL"
    assert resource.in_maintenance
    client.unmark_maintained(rid)
    assert fake.state_of(rid) == "STARTED"


def test_mark_until_end_and_timedelta(fake: FakeVrops, client: VropsClient) -> None:
    rid = fake.add_host("esx01")
    end = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    client.mark_maintained(rid, end=end)
    assert fake.state_of(rid) == "MAINTAINED"
    assert fake.maintained_until(rid) == end
    client.mark_maintained(rid, duration=dt.timedelta(seconds=90))
    put = [c for c in fake.calls if c.method == "PUT"][-1]
    assert dict(put.query) == {"duration": "2"}  # minutes, rounded up
    with pytest.raises(ValueError, match="timezone"):
        client.mark_maintained(rid, end=dt.datetime(2031, 1, 1))
    with pytest.raises(ValueError, match="not both"):
        client.mark_maintained(rid, duration=5, end=end)


def test_timed_maintenance_ends_by_itself() -> None:
    now = [1_800_000_000.0]
    fake = FakeVrops(clock=lambda: now[0])
    rid = fake.add_host("esx01")
    with VropsClient(
        "http://vrops.test", "admin", "fake-Passw0rd!", transport=fake.sync_transport()
    ) as client:
        # The client's own clock is real time; keep the fake's token valid for it.
        fake.token_lifetime = 10 * 365 * 86400
        client.mark_maintained(rid, duration=10)
        assert fake.state_of(rid) == "MAINTAINED"
        now[0] += 601
        assert client.maintenance_state(rid).resource_state == "STARTED"


def test_bulk_mark_and_unmark(fake: FakeVrops, client: VropsClient) -> None:
    ids = [fake.add_host(f"esx0{i}") for i in range(3)]
    client.mark_maintained_bulk(ids, duration=15)
    assert {fake.state_of(i) for i in ids} == {"MAINTAINED"}
    bulk = [c for c in fake.calls if c.route == "/api/resources/maintained"][-1]
    assert [v for k, v in bulk.query if k == "id"] == ids
    client.unmark_maintained_bulk(ids)
    assert {fake.state_of(i) for i in ids} == {"STARTED"}
    with pytest.raises(ValueError, match="no resource ids"):
        client.mark_maintained_bulk([])


def test_mark_host_maintained_uses_the_host_id_cache(
    fake: FakeVrops, make_client: Callable[..., VropsClient]
) -> None:
    client = make_client(cache_host_ids=True)
    fake.add_host("esx010")
    rid = fake.add_host("esx01")
    assert client.mark_host_maintained("esx01", duration=5) == rid
    fake.reset_counts()
    client.unmark_host_maintained("esx01")
    client.mark_host_maintained("esx01")
    assert fake.total_requests() == 2  # one PUT/DELETE each, no lookups
    assert fake.state_of(rid) == "MAINTAINED_MANUAL"


def test_a_stale_cached_host_id_is_looked_up_again(
    fake: FakeVrops, make_client: Callable[..., VropsClient]
) -> None:
    client = make_client(cache_host_ids=True)
    old = fake.add_host("esx01", "host-19")
    assert client.host_id("esx01") == old
    # The host was removed and re-added in vROps: new resource id.
    fake._resources.pop(old)
    new = fake.add_host("esx01", "host-19")
    assert client.mark_host_maintained("esx01") == new
    assert fake.state_of(new) == "MAINTAINED_MANUAL"
    assert client.host_id("esx01") == new


def test_without_the_cache_a_host_event_costs_lookup_plus_put(
    fake: FakeVrops, client: VropsClient
) -> None:
    fake.add_host("esx01")
    client.mark_host_maintained("esx01")
    fake.reset_counts()
    client.mark_host_maintained("esx01")
    assert fake.total_requests() == 2


def test_alerts_query_suspend_and_note(fake: FakeVrops, client: VropsClient) -> None:
    rid = fake.add_host("esx01")
    other = fake.add_host("esx02")
    a1 = fake.add_alert(rid, level="CRITICAL")
    a2 = fake.add_alert(rid, level="WARNING")
    fake.add_alert(other)
    alerts = client.query_alerts(resource_ids=[rid])
    assert {a.alert_id for a in alerts} == {a1, a2}
    assert [
        a.alert_id for a in client.query_alerts(resource_ids=[rid], criticality=["critical"])
    ] == [a1]
    suspended = client.suspend_alerts([a1], minutes=30)
    assert [a.control_state for a in suspended] == ["SUSPENDED"]
    assert suspended[0].suspend_until is not None
    assert [a.alert_id for a in client.query_alerts(resource_ids=[rid], active_only=True)] == [a2]
    note = client.add_alert_note(a2, "host entered maintenance mode (VEBA)")
    assert note.alert_id == a2
    assert fake.alert(a2)["notes"][0]["note"] == "host entered maintenance mode (VEBA)"
    assert client.suspend_alerts([], minutes=5) == []


def test_push_properties_and_post_event(fake: FakeVrops, client: VropsClient) -> None:
    rid = fake.add_host("esx01")
    client.push_properties(
        rid, {"veba|lastEvent": "EnteredMaintenanceModeEvent", "veba|count": 3, "veba|flag": True}
    )
    assert fake.properties_of(rid) == {
        "veba|lastEvent": "EnteredMaintenanceModeEvent",
        "veba|count": 3.0,
        "veba|flag": "true",
    }
    client.post_event(rid, "esx01 entered maintenance mode", severity="information")
    event = fake.events[-1]
    assert event["resourceId"] == rid
    assert event["eventType"] == "NOTIFICATION"
    assert event["severity"] == "INFORMATION"
    with pytest.raises(ValueError, match="2000"):
        client.post_event(rid, "old", start=dt.datetime(1999, 1, 1, tzinfo=dt.UTC))


def test_node_status_needs_no_token(fake: FakeVrops, client: VropsClient) -> None:
    status = client.node_status()
    assert status.online
    assert fake.acquires == 0
    fake.set_online(False)
    assert not client.node_status().online
    assert fake.counts["GET /api/deployment/node/status"] == 2  # 503 is an answer, not retried


@pytest.mark.anyio
async def test_async_twin_covers_the_same_calls(
    fake: FakeVrops, make_aclient: Callable[..., AsyncVropsClient]
) -> None:
    client = make_aclient(page_size=2, cache_host_ids=True)
    fake.add_host("esx010")
    fake.add_host("esx011")
    rid = fake.add_host("esx01")
    alert = fake.add_alert(rid)
    host = await client.find_host("esx01")
    assert host.identifier == rid
    assert (
        await client.find_resource("esx01", adapter_kind="VMWARE", resource_kind="HostSystem")
    ).identifier == rid
    assert [
        r.identifier
        for r in await client.find_by_identifiers({"VMEntityObjectID": host.moref or ""})
    ] == [rid]
    assert len([r async for r in client.iter_resources("esx01")]) == 3
    assert await client.host_id("esx01") == rid
    await client.mark_host_maintained("esx01", duration=5)
    assert (await client.maintenance_state(rid)).resource_state == "MAINTAINED"
    await client.unmark_host_maintained("esx01")
    await client.mark_maintained(rid)
    assert fake.state_of(rid) == "MAINTAINED_MANUAL"
    await client.unmark_maintained(rid)
    await client.mark_maintained_bulk([rid], end=dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    assert fake.state_of(rid) == "MAINTAINED"
    await client.unmark_maintained_bulk([rid])
    assert fake.state_of(rid) == "STARTED"
    assert [a.alert_id for a in await client.query_alerts(resource_ids=[rid])] == [alert]
    assert (await client.suspend_alerts([alert], 10))[0].control_state == "SUSPENDED"
    assert (await client.add_alert_note(alert, "n")).note == "n"
    await client.push_properties(rid, {"veba|x": 1.5})
    await client.post_event(rid, "annotated")
    assert (await client.node_status()).online
    assert fake.acquires == 1
