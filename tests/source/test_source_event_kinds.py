"""Events posted to govmomi's simulator reach handlers routed on catalogued type ids and on a
DRS event's parent class, through the vCenter source in both producer shapes."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pyVmomi import vim
from source_helpers import Poster, Vcsim, wait_until

from veba_sdk import Router
from veba_sdk.events.type_ids import type_id_info
from veba_sdk.source import VCenterSource, router_target

EVENTEX_ID = "com.vmware.vc.HA.ClusterFailoverInProgressEvent"
EXTENDED_ID = "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"


def post_drs_power_on(poster: Poster) -> None:
    """What vCenter posts when DRS powers a VM on: a DrsVmPoweredOnEvent."""
    event = vim.event.DrsVmPoweredOnEvent(
        vm=vim.event.VmEventArgument(name=poster.vm.name, vm=poster.vm),
        host=vim.event.HostEventArgument(name=poster.host.name, host=poster.host),
        template=False,
        **poster._base(),
    )
    poster.em.PostEvent(event)


@pytest.mark.simulator
@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_catalogued_ids_and_drs_events_from_the_simulator(
    vcsim: Vcsim, poster: Poster, producer: str
) -> None:
    kinds = {name: getattr(type_id_info(name), "kind", None) for name in (EVENTEX_ID, EXTENDED_ID)}
    assert kinds == {EVENTEX_ID: "EventEx", EXTENDED_ID: "ExtendedEvent"}
    router = Router()
    seen: list[tuple[str, str, str]] = []

    @router.on(EVENTEX_ID)
    def eventex(event: Any, ctx: Any) -> None:
        seen.append((ctx.category, type(event).__name__, event.event_type_id))

    @router.on(EXTENDED_ID)
    def extended(event: Any, ctx: Any) -> None:
        seen.append((ctx.category, type(event).__name__, event.event_type_id))

    @router.on("VmPoweredOnEvent")
    def powered_on(event: Any, ctx: Any) -> None:
        seen.append((ctx.category, type(event).__name__, event.vm.name))

    warmups: list[str] = []
    router.on("com.example.warmup", uncatalogued=True)(lambda event: warmups.append("w"))
    source = VCenterSource(
        vcsim.address,
        username=vcsim.username,
        password=vcsim.password,
        deliver=router_target(router),
        verify=False,
        producer=producer,
        poll_interval=0.02,
    )
    thread = threading.Thread(target=source.run, kwargs={"handle_signals": False}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: source.api_version != "", 10, "the source to connect")
        while not warmups:  # the collector starts at vCenter's "now"
            poster.post("eventex", "com.example.warmup")
            thread.join(0.1)
        poster.post("eventex", EVENTEX_ID)
        poster.post("extended", EXTENDED_ID)
        post_drs_power_on(poster)
        wait_until(lambda: len(seen) == 3, 10, "the three events")
    finally:
        source.stop()
        thread.join(10)
    assert seen == [
        ("eventex", "EventEx", EVENTEX_ID),
        ("extendedevent", "ExtendedEvent", EXTENDED_ID),
        ("event", "DrsVmPoweredOnEvent", poster.vm.name),
    ]
