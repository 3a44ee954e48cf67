"""The event source's parts on their own: payload JSON, CloudEvent shapes, HTTP encoding,
checkpoints, configuration, and the in-process router adapter."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyVmomi import vim
from source_helpers import Poster, Sink, Vcsim, wait_until

from veba_sdk import HandlerError, Router
from veba_sdk._errors import ConfigError
from veba_sdk._idempotency import InMemoryIdempotencyStore
from veba_sdk.events import parse_event
from veba_sdk.source import (
    Checkpoint,
    CheckpointError,
    CheckpointStore,
    DeliveryError,
    HttpTarget,
    VCenterSource,
    cloudevent_attributes,
    router_target,
    source_from_config,
)
from veba_sdk.source.checkpoint import checkpoint_path
from veba_sdk.source.delivery import encode_binary, encode_structured
from veba_sdk.source.payload import event_category, event_name, rfc3339, to_govmomi_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
UTC = dt.UTC
CREATED = dt.datetime(2022, 4, 20, 15, 47, 32, 365000, tzinfo=UTC)


def maintenance_event() -> Any:
    host = vim.HostSystem("host-19")
    return vim.event.EnteredMaintenanceModeEvent(
        key=910093,
        chainId=910066,
        createdTime=CREATED,
        userName="VSPHERE.LOCAL\\Administrator",
        datacenter=vim.event.DatacenterEventArgument(
            name="HomeLab", datacenter=vim.Datacenter("datacenter-47")
        ),
        computeResource=vim.event.ComputeResourceEventArgument(
            name="CL1", computeResource=vim.ClusterComputeResource("domain-c52")
        ),
        host=vim.event.HostEventArgument(name="esx02", host=host),
        fullFormattedMessage="Host esx02 in HomeLab has entered maintenance mode",
    )


# -- payload -------------------------------------------------------------------------------


def test_payload_matches_a_real_router_payload() -> None:
    real = json.loads(
        (
            FIXTURES
            / "veba-events"
            / "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"
        ).read_text()
    )
    ours = to_govmomi_json(maintenance_event())
    for key, value in real.items():
        if key == "Host":
            assert ours[key] == {
                "Name": "esx02",
                "Host": {"Type": "HostSystem", "Value": "host-19"},
            }
        elif key not in ("FullFormattedMessage", "Host"):
            assert ours[key] == value, key
    # Go's field order (base class first); pyvmomi 9.1 adds Tgw and AuditId (API 9.1)
    assert [key for key in ours if key in real] == list(real)
    assert set(ours) - set(real) == {"Tgw", "AuditId"}
    event = parse_event(ours, name="EnteredMaintenanceModeEvent")
    assert event.host is not None
    assert event.host.name == "esx02"
    assert event.created_time == CREATED


def test_payload_datastore_network_and_lists() -> None:
    ds = vim.event.DatastoreEventArgument(name="ds1", datastore=vim.Datastore("datastore-11"))
    net = vim.event.NetworkEventArgument(name="VM Network", network=vim.Network("network-13"))
    event = vim.event.VmReconfiguredEvent(
        key=1, chainId=1, createdTime=CREATED, userName="u", ds=ds, net=net
    )
    data = to_govmomi_json(event)
    assert data["Ds"] == {
        "Name": "ds1",
        "Datastore": {"Type": "Datastore", "Value": "datastore-11"},
    }
    assert data["Net"]["Network"] == {"Type": "Network", "Value": "network-13"}
    assert data["ConfigSpec"] is None
    assert data["ConfigChanges"] is None
    assert "DynamicType" not in data


def test_event_names_and_categories() -> None:
    ex = vim.event.EventEx(eventTypeId="com.vmware.sso.LoginFailure")
    ext = vim.event.ExtendedEvent(eventTypeId="esx.problem.x")
    assert (event_name(ex), event_category(ex)) == ("com.vmware.sso.LoginFailure", "eventex")
    assert (event_name(ext), event_category(ext)) == ("esx.problem.x", "extendedevent")
    drs = vim.event.DrsVmPoweredOnEvent()
    assert (event_name(drs), event_category(drs)) == ("DrsVmPoweredOnEvent", "event")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2020, 2, 11, 21, 28, 23, 677595, tzinfo=UTC), "2020-02-11T21:28:23.677595Z"),
        (dt.datetime(2020, 2, 11, 21, 28, 23, 500000, tzinfo=UTC), "2020-02-11T21:28:23.5Z"),
        (dt.datetime(2020, 2, 11, 21, 28, 23, tzinfo=UTC), "2020-02-11T21:28:23Z"),
        (
            dt.datetime(2020, 2, 11, 23, 28, 23, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2020-02-11T21:28:23Z",
        ),
    ],
)
def test_rfc3339(value: dt.datetime, text: str) -> None:
    assert rfc3339(value) == text


# -- CloudEvent shapes and HTTP ------------------------------------------------------------


def shape(producer: str, name: str = "VmPoweredOnEvent", category: str = "event") -> Any:
    return cloudevent_attributes(
        producer=producer,
        name=name,
        category=category,
        key=42,
        created="2020-02-11T21:28:23.677595Z",
        source="https://vc01/sdk",
        api_version="8.0.3.0",
    )


def test_router_shape() -> None:
    a = shape("router", "com.vmware.vc.HA.X", "eventex")
    assert a["type"] == "com.vmware.event.router/eventex"
    assert a["subject"] == "com.vmware.vc.HA.X"
    assert len(a["id"]) == 36
    assert a["id"] != shape("router")["id"]
    assert (a["time"], a["vsphereapiversion"]) == ("2020-02-11T21:28:23.677595Z", "8.0.3.0")


def test_vsphere_source_shape() -> None:
    a = shape("vsphere-source")
    assert a["type"] == "com.vmware.vsphere.VmPoweredOnEvent.v0"
    assert (a["id"], a["eventclass"]) == ("42", "event")
    assert "subject" not in a
    with pytest.raises(ValueError, match="producer"):
        shape("openfaas")


def test_binary_and_structured_encoding() -> None:
    attributes = {**shape("router"), "subject": "Ünïcode 100%"}
    headers, body = encode_binary(attributes, {"Key": 42})
    assert headers["content-type"] == "application/json"
    assert headers["ce-subject"] == "%C3%9Cn%C3%AFcode%20100%25"
    assert json.loads(body) == {"Key": 42}
    headers, body = encode_structured(attributes, {"Key": 42})
    assert headers["content-type"].startswith("application/cloudevents+json")
    document = json.loads(body)
    assert (document["subject"], document["data"]) == ("Ünïcode 100%", {"Key": 42})


def test_http_target_accepts_2xx_and_raises_otherwise() -> None:
    answers = [202, 404]
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answers.pop(0))

    client = httpx.Client(transport=httpx.MockTransport(handle))
    target = HttpTarget("http://fn.local/", client=client)
    target(shape("router"), {"Key": 42})
    with pytest.raises(DeliveryError) as info:
        target(shape("router"), {"Key": 42})
    assert info.value.status == 404
    assert seen[0].headers["ce-type"] == "com.vmware.event.router/event"
    assert repr(target) == "HttpTarget('http://fn.local/', encoding='binary')"
    target.close()


# -- checkpoints ---------------------------------------------------------------------------


def test_checkpoint_round_trip_is_atomic(tmp_path: Path) -> None:
    store = CheckpointStore(checkpoint_path(tmp_path / "cp", "vc01.corp.local"))
    assert store.load() is None
    saved = Checkpoint(
        vcenter="vc01.corp.local",
        last_event_key=17208,
        last_event_type="UserLogoutSessionEvent",
        last_event_time=CREATED,
        last_event_uuid="e5b89c60-d292-44cb-b5f0-7fef6d0e5fb4",
    )
    store.save(saved)
    assert store.path.name == "cp-vc01.corp.local.json"
    assert store.load() == saved
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]  # no temp files
    document = json.loads(store.path.read_text())
    # wire.format_time: trailing fractional zeros trimmed, as Go's RFC3339Nano writes them.
    assert document["lastEventKeyTimestamp"] == "2022-04-20T15:47:32.365Z"
    assert set(document) == {
        "vCenter",
        "lastEventUUID",
        "lastEventKey",
        "lastEventType",
        "lastEventKeyTimestamp",
        "createdTimestamp",
    }


def test_checkpoint_reads_the_routers_format(tmp_path: Path) -> None:
    path = tmp_path / "cp-10.161.153.226.json"
    path.write_text(
        '{"vCenter": "10.161.153.226", "lastEventKey": 17208,'
        ' "lastEventType": "UserLogoutSessionEvent",'
        ' "lastEventKeyTimestamp": "2021-02-15T19:20:35.598999Z",'
        ' "createdTimestamp": "2021-02-15T19:20:36.3326551Z"}'
    )
    loaded = CheckpointStore(path).load()
    assert loaded is not None
    assert loaded.last_event_key == 17208
    assert loaded.last_event_time == dt.datetime(2021, 2, 15, 19, 20, 35, 598999, tzinfo=UTC)
    assert loaded.created == dt.datetime(2021, 2, 15, 19, 20, 36, 332655, tzinfo=UTC)


def test_checkpoint_reads_what_earlier_releases_wrote(tmp_path: Path) -> None:
    """Before wire.format_time, checkpoints kept six fractional digits (``.365000Z``)."""
    path = tmp_path / "cp-vc01.corp.local.json"
    path.write_text(
        '{"vCenter": "vc01.corp.local", "lastEventUUID": "", "lastEventKey": 17208,'
        ' "lastEventType": "UserLogoutSessionEvent",'
        ' "lastEventKeyTimestamp": "2022-04-20T15:47:32.365000Z",'
        ' "createdTimestamp": "2022-04-20T15:47:33Z"}'
    )
    store = CheckpointStore(path)
    loaded = store.load()
    assert loaded is not None
    assert loaded.last_event_time == CREATED
    assert loaded.created == dt.datetime(2022, 4, 20, 15, 47, 33, tzinfo=UTC)
    store.save(loaded)  # rewritten in the current format, read back unchanged
    assert store.load() == loaded
    assert json.loads(path.read_text())["lastEventKeyTimestamp"] == "2022-04-20T15:47:32.365Z"


def test_checkpoint_empty_and_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "cp-vc.json"
    path.write_text('{"lastEventKey": 0, "lastEventKeyTimestamp": "0001-01-01T00:00:00Z"}')
    assert CheckpointStore(path).load() is None  # the router's initial empty checkpoint
    path.write_text('{"lastEventKey": 1, "lastEventKeyTi')
    with pytest.raises(CheckpointError, match="malformed"):
        CheckpointStore(path).load()


# -- configuration -------------------------------------------------------------------------

ROUTER_CONFIGS = FIXTURES / "router-configs"


def test_source_from_config_rejects_what_it_cannot_run() -> None:
    with pytest.raises(ConfigError, match=r"^eventProvider.type: .* not webhook"):
        source_from_config(ROUTER_CONFIGS / "dev__event-router-config-webhook-knative.yaml")
    with pytest.raises(ConfigError, match=r"Broker default/rabbit needs its address.*--target"):
        source_from_config(ROUTER_CONFIGS / "dev__event-router-config-vcenter-knative.yaml")


def test_source_from_config_with_a_callable() -> None:
    source = source_from_config(
        ROUTER_CONFIGS / "dev__event-router-config-vcenter-knative.yaml", Sink(), page_size=50
    )
    assert source.source_url == "https://my-vcenter01.domain.local:443/sdk"
    assert (source.verify, source.store, source.page_size) == (True, None, 50)
    assert "ReplaceMe" not in repr(source)


# -- in-process delivery to a Router -------------------------------------------------------


def test_router_target_dispatches_and_raises_on_handler_failure() -> None:
    router = Router(idempotency=InMemoryIdempotencyStore())
    hosts: list[str] = []
    fail = [True]

    @router.on("EnteredMaintenanceModeEvent")
    def mark(event: Any) -> None:
        if fail[0]:
            fail[0] = False
            raise RuntimeError("vROps down")
        hosts.append(event.host.name)

    deliver = router_target(router)
    data = to_govmomi_json(maintenance_event())
    with pytest.raises(HandlerError):
        deliver(shape("router", "EnteredMaintenanceModeEvent"), data)
    deliver(shape("router", "EnteredMaintenanceModeEvent"), data)  # the source's retry
    # a redelivery after a crash has a new random id but the same vCenter key: ignored
    deliver(shape("router", "EnteredMaintenanceModeEvent"), json.dumps(data).encode())
    assert hosts == ["esx02"]


@pytest.mark.simulator
def test_source_to_router_in_process(vcsim: Vcsim, poster: Poster) -> None:
    router = Router(idempotency=InMemoryIdempotencyStore())
    seen: list[tuple[str, str]] = []

    @router.on("EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent")
    def record(event: Any, ctx: Any) -> None:
        seen.append((type(event).__name__, event.host.name))

    @router.on("com.example.*", uncatalogued=True)  # test ids, in no vCenter release
    def custom(event: Any) -> None:
        seen.append(("EventEx", event.event_type_id))

    source = VCenterSource(
        vcsim.address,
        username=vcsim.username,
        password=vcsim.password,
        deliver=router_target(router),
        verify=False,
        producer="vsphere-source",
        poll_interval=0.02,
    )
    thread = threading.Thread(target=source.run, kwargs={"handle_signals": False}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: source.api_version != "", 10, "the source to connect")
        while source.delivered == 0:  # the collector starts at vCenter's "now"
            poster.post("eventex", "com.example.warmup")
            thread.join(0.1)
        poster.post("enter")
        poster.post("exit")
        poster.post("eventex", "com.example.done")
        wait_until(lambda: ("EventEx", "com.example.done") in seen, 10, "the events")
    finally:
        source.stop()
        thread.join(10)
    assert ("EnteredMaintenanceModeEvent", "DC0_H0") in seen
    assert ("ExitMaintenanceModeEvent", "DC0_H0") in seen


def test_the_source_spells_out_the_same_producers_as_the_events_package() -> None:
    from veba_sdk.source import delivery
    from veba_sdk.wire import PRODUCERS

    assert delivery.PRODUCERS == PRODUCERS
