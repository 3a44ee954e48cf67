"""The router: every route kind on real fixtures, fan-out, sync/async, errors, idempotency."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from payloads import load_payload

from veba_sdk import (
    Context,
    InMemoryIdempotencyStore,
    Reply,
    RouteError,
    Router,
)
from veba_sdk.events import Envelope, from_cloudevent


def envelope(
    name: str,
    data: dict[str, Any] | None = None,
    *,
    category: str = "event",
    producer: str = "vsphere-source",
    key: int | None = None,
) -> Envelope:
    """An envelope of a fixture (or a minimal payload) in a chosen producer shape."""
    if data is None:
        data = {"Key": key or 1, "ChainId": 1, "CreatedTime": "2024-01-01T00:00:00Z"}
    elif key is not None:
        data = {**data, "Key": key}
    if producer == "router":
        attributes = {
            "specversion": "1.0",
            "id": "0d7a4f2c-9a1e-4f3e-8a43-0c0f4b3c2d1e",
            "source": "https://vc01.local/sdk",
            "type": f"com.vmware.event.router/{category}",
            "subject": name,
        }
    else:
        attributes = {
            "specversion": "1.0",
            "id": str(data.get("Key", 1)),
            "source": "https://vc01.local/sdk",
            "type": f"com.vmware.vsphere.{name}.v0",
            "eventclass": category,
        }
    return from_cloudevent(attributes, data)


ENTER = load_payload("EnteredMaintenanceModeEvent__")
EXIT = load_payload("ExitMaintenanceModeEvent__")
DRS = load_payload("DrsVmPoweredOnEvent__v0.7")
HA = load_payload("EventEx_com.vmware.vc.HA")
ALARM = load_payload("AlarmStatusChangedEvent__data-only")


def test_exact_name_and_stacked_decorators() -> None:
    router = Router()
    seen: list[str] = []

    @router.on("EnteredMaintenanceModeEvent")
    @router.on("ExitMaintenanceModeEvent")
    def sync_state(event: Any, ctx: Context) -> None:
        seen.append(f"{ctx.name}:{event.host.name}")

    router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))
    router.dispatch(envelope("ExitMaintenanceModeEvent", EXIT, producer="router"))
    result = router.dispatch(envelope("VmPoweredOnEvent", DRS))
    assert seen == [
        "EnteredMaintenanceModeEvent:esx02.cl.vmweventbroker.io",
        f"ExitMaintenanceModeEvent:{EXIT['Host']['Name']}",
    ]
    assert not result.matched
    assert result.ok


def test_class_route_gets_subclasses() -> None:
    from veba_sdk.events import VmPoweredOnEvent

    router = Router()
    got: list[str] = []
    router.on(VmPoweredOnEvent)(lambda event: got.append(type(event).__name__))
    router.dispatch(envelope("DrsVmPoweredOnEvent", DRS))
    router.dispatch(envelope("VmPoweredOnEvent", DRS))
    router.dispatch(envelope("VmPoweredOffEvent", DRS))
    assert got == ["DrsVmPoweredOnEvent", "VmPoweredOnEvent"]


def test_class_route_by_name_and_hostevent() -> None:
    router = Router()
    got: list[str] = []
    router.on("class:HostEvent")(lambda event: got.append(type(event).__name__))
    router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))
    router.dispatch(envelope("DrsVmPoweredOnEvent", DRS))
    assert got == ["EnteredMaintenanceModeEvent"]


def test_glob_routes() -> None:
    router = Router()
    vm: list[str] = []
    everything: list[str] = []
    router.on("Vm*Event")(lambda event, ctx: vm.append(ctx.name))
    router.on("*")(lambda event, ctx: everything.append(ctx.name))
    router.dispatch(envelope("VmPoweredOnEvent", DRS))
    router.dispatch(envelope("DrsVmPoweredOnEvent", DRS))
    router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))
    assert vm == ["VmPoweredOnEvent"]
    assert everything == ["VmPoweredOnEvent", "DrsVmPoweredOnEvent", "EnteredMaintenanceModeEvent"]


def test_eventex_type_id_routes_exact_and_glob() -> None:
    router = Router()
    got: list[str] = []
    type_id = HA["EventTypeId"]
    router.on(type_id)(lambda event, ctx: got.append("exact"))
    router.on("com.vmware.vc.HA.*")(lambda event, ctx: got.append("glob"))
    router.on("esx.problem.*")(lambda event, ctx: got.append("wrong"))
    for producer in ("router", "vsphere-source"):
        result = router.dispatch(envelope(type_id, HA, category="eventex", producer=producer))
        assert result.ran == ["test_eventex_type_id_routes_exact_and_glob.<locals>.<lambda>"] * 2
    assert got == ["exact", "glob", "exact", "glob"]


def test_where_filter_and_default() -> None:
    router = Router()
    got: list[str] = []

    @router.on("DrsVmPoweredOnEvent", where=lambda e: e.vm.name.startswith("prod-"))
    def prod_only(event: Any) -> None:
        got.append("prod")

    @router.default
    def rest(event: Any, ctx: Context) -> None:
        got.append(f"default:{ctx.name}")

    router.dispatch(envelope("DrsVmPoweredOnEvent", DRS))  # vm is TestVM: filter rejects
    router.dispatch(envelope("DrsVmPoweredOnEvent", {**DRS, "Vm": {**DRS["Vm"], "Name": "prod-1"}}))
    router.dispatch(envelope("AlarmStatusChangedEvent", ALARM))
    assert got == ["default:DrsVmPoweredOnEvent", "prod", "default:AlarmStatusChangedEvent"]


def test_fan_out_in_order_with_one_failing_handler(caplog: pytest.LogCaptureFixture) -> None:
    router = Router()
    order: list[int] = []

    @router.on("EnteredMaintenanceModeEvent")
    def first(event: Any) -> None:
        order.append(1)

    @router.on("class:HostEvent")
    def broken(event: Any) -> None:
        raise RuntimeError("vROps said no")

    @router.on("Entered*")
    def third(event: Any) -> None:
        order.append(3)

    env = envelope("EnteredMaintenanceModeEvent", ENTER)
    result = router.dispatch(env)
    assert order == [1, 3]
    assert not result.ok
    assert [name for name, _ in result.failed] == [
        "test_fan_out_in_order_with_one_failing_handler.<locals>.broken"
    ]
    assert len(result.ran) == 2
    assert env.attributes["id"] in caplog.text
    with pytest.raises(Exception, match="1 handler"):
        result.raise_for_failure()


def test_async_and_sync_handlers_in_both_dispatch_paths() -> None:
    router = Router()
    threads: dict[str, str] = {}

    @router.on("EnteredMaintenanceModeEvent")
    async def async_handler(event: Any, ctx: Context) -> dict[str, str]:
        await asyncio.sleep(0)
        threads["async"] = threading.current_thread().name
        return {"host": event.host.name}

    @router.on("EnteredMaintenanceModeEvent")
    def sync_handler(event: Any) -> None:
        threads["sync"] = threading.current_thread().name

    env = envelope("EnteredMaintenanceModeEvent", ENTER)
    result = router.dispatch(env)
    assert result.ok
    assert result.values == [{"host": "esx02.cl.vmweventbroker.io"}]
    assert threads["sync"] == threads["async"] == threading.current_thread().name

    async def run() -> Any:
        return await router.dispatch_async(env)

    result = asyncio.run(run())
    assert result.ok
    assert len(result.ran) == 2
    # plain def handlers go to a worker thread so they cannot stall the loop
    assert threads["sync"] != threading.current_thread().name
    assert threads["async"] == threading.current_thread().name


def test_sync_dispatch_of_async_handler_inside_a_loop_is_a_clear_error() -> None:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    async def handler(event: Any) -> None:
        return None

    async def run() -> Any:
        return router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))

    result = asyncio.run(run())
    assert not result.ok
    assert "dispatch_async" in str(result.failed[0][1])


def test_replies_and_cloudevent_returns() -> None:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def via_ctx(event: Any, ctx: Context) -> None:
        ctx.reply(type="com.example.ack", data={"host": event.host.name})

    @router.on("EnteredMaintenanceModeEvent")
    def via_return(event: Any) -> Any:
        return CloudEvent({"type": "com.example.sdk", "source": "/fn"}, {"ok": True})

    result = router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))
    assert [r.type for r in result.replies] == ["com.example.ack", "com.example.sdk"]
    assert result.replies[0] == Reply(
        type="com.example.ack", data={"host": "esx02.cl.vmweventbroker.io"}
    )
    sdk_event = result.replies[1].to_cloudevent(id="r1")
    assert sdk_event.get_attributes()["type"] == "com.example.sdk"


@pytest.mark.parametrize(
    ("pattern", "suggestion"),
    [
        ("EnteredMaintenanceMode", "EnteredMaintenanceModeEvent"),
        ("enteredmaintenancemodeevent", "EnteredMaintenanceModeEvent"),
        ("VmPoweredOnEvnt", "VmPoweredOnEvent"),
    ],
)
def test_unknown_names_fail_at_decoration_with_suggestion(pattern: str, suggestion: str) -> None:
    router = Router()
    with pytest.raises(RouteError, match=f"did you mean '{suggestion}'"):
        router.on(pattern)


def test_other_decoration_errors() -> None:
    router = Router()
    with pytest.raises(RouteError, match="matches no vCenter event class"):
        router.on("Xyz*Event")
    with pytest.raises(RouteError, match="at least one"):
        router.on()
    with pytest.raises(RouteError, match="not a vCenter event class"):
        router.on(dict)
    with pytest.raises(RouteError, match=r"\(event\)"):
        router.on("VmPoweredOnEvent")(lambda: None)


def test_include_composes_routers() -> None:
    hosts, vms, main = Router(), Router(), Router()
    got: list[str] = []
    hosts.on("EnteredMaintenanceModeEvent")(lambda e: got.append("hosts"))
    vms.on("VmPoweredOnEvent")(lambda e: got.append("vms"))
    main.on("*")(lambda e: got.append("main"))
    main.include(hosts)
    main.include(vms)
    main.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))
    main.dispatch(envelope("VmPoweredOnEvent", DRS))
    assert got == ["main", "hosts", "main", "vms"]
    assert len(main.routes) == 3


def test_idempotency_runs_each_event_once_and_retries_failures() -> None:
    router = Router(idempotency=InMemoryIdempotencyStore(ttl=60))
    calls: list[int] = []
    fail = [True]

    @router.on("EnteredMaintenanceModeEvent")
    def handler(event: Any) -> None:
        calls.append(event.key)
        if fail[0]:
            raise RuntimeError("transient")

    # The router format gives each delivery a new random id: identity is source + vCenter key.
    first = router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER, producer="router"))
    assert not first.ok
    fail[0] = False
    second = router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER, producer="router"))
    assert second.ok
    assert not second.duplicate
    third = router.dispatch(envelope("EnteredMaintenanceModeEvent", ENTER))
    assert third.ok
    assert third.duplicate
    assert third.ran == []
    assert calls == [ENTER["Key"], ENTER["Key"]]


def test_idempotency_ttl_expiry() -> None:
    store = InMemoryIdempotencyStore(ttl=10)
    now = [100.0]
    store._clock = lambda: now[0]
    assert store.begin("k") == "new"
    assert store.begin("k") == "in_progress"
    store.complete("k")
    assert store.begin("k") == "completed"
    now[0] += 11
    assert store.begin("k") == "new"


def test_threads_dispatching_concurrently() -> None:
    router = Router(idempotency=True)
    seen: list[int] = []
    lock = threading.Lock()

    @router.on("class:HostEvent")
    def handler(event: Any) -> None:
        with lock:
            seen.append(event.key)

    envelopes = [
        envelope("EnteredMaintenanceModeEvent", ENTER, key=k) for k in range(200)
    ] * 2  # every event delivered twice

    def work(chunk: list[Envelope]) -> None:
        for env in chunk:
            router.dispatch(env)

    threads = [threading.Thread(target=work, args=(envelopes[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(200))


def test_handlers_are_cached_per_name() -> None:
    router = Router()
    for index in range(50):
        router.on("VmPoweredOnEvent")(lambda e, i=index: i)
    first = router.handlers_for("VmPoweredOnEvent", "event", "VmPoweredOnEvent")
    assert first is router.handlers_for("VmPoweredOnEvent", "event", "VmPoweredOnEvent")
    router.on("VmPoweredOffEvent")(lambda e: None)  # registering invalidates the cache
    assert first is not router.handlers_for("VmPoweredOnEvent", "event", "VmPoweredOnEvent")
