"""Dispatch written once (Router._steps) and driven two ways: both drivers agree, observers see
only the hooks they override, a failing observer or an interrupted handler breaks nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import veba_sdk
from veba_sdk import DispatchResult, InMemoryIdempotencyStore, Router, VebaError
from veba_sdk._context import handler_context
from veba_sdk._errors import DuplicateInProgress
from veba_sdk._observe import DispatchObserver, Observers
from veba_sdk._routes import Route, suggest_name
from veba_sdk.events import Envelope, from_cloudevent

NAME = "EnteredMaintenanceModeEvent"


def envelope(key: int = 1) -> Envelope:
    data = {"Key": key, "ChainId": 1, "CreatedTime": "2024-01-01T00:00:00Z"}
    attributes = {
        "specversion": "1.0",
        "id": str(key),
        "source": "https://vc01.local/sdk",
        "type": f"com.vmware.vsphere.{NAME}.v0",
        "eventclass": "event",
    }
    return from_cloudevent(attributes, data)


class Recorder(DispatchObserver):
    """Notes every hook with the state it was handed back."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        self.calls.append(("event_started", envelope.name, platform_context))
        return "event-state"

    def handler_started(self, state: Any, route: Route) -> Any:
        self.calls.append(("handler_started", state, route.name))
        return "handler-state"

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        assert seconds >= 0
        self.calls.append(("handler_finished", state, route.name, handler_state, repr(error)))

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        self.calls.append(("event_finished", state, result.ran))


class Broken(DispatchObserver):
    """Raises in every hook."""

    def event_started(self, envelope: Envelope, platform_context: Any) -> Any:
        raise RuntimeError("event_started")

    def handler_started(self, state: Any, route: Route) -> Any:
        raise RuntimeError("handler_started")

    def handler_finished(
        self,
        state: Any,
        route: Route,
        handler_state: Any,
        error: BaseException | None,
        seconds: float,
    ) -> None:
        raise RuntimeError("handler_finished")

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        raise RuntimeError("event_finished")


class EndsOnly(DispatchObserver):
    def __init__(self) -> None:
        self.results: list[DispatchResult] = []

    def event_finished(self, state: Any, result: DispatchResult) -> None:
        assert state is None  # event_started is not overridden: the state is None
        self.results.append(result)


def failing_router() -> Router:
    router = Router()

    @router.on(NAME)
    def fine(event: Any) -> None:
        return None

    @router.on(NAME)
    def broken(event: Any) -> None:
        raise ValueError("boom")

    return router


def dispatch(router: Router, how: str, event: Envelope) -> DispatchResult:
    if how == "dispatch":
        return router.dispatch(event, platform_context="platform")
    return asyncio.run(router.dispatch_async(event, platform_context="platform"))


@pytest.mark.parametrize("how", ["dispatch", "dispatch_async"])
def test_a_failing_observer_does_not_stop_the_others(how: str) -> None:
    router = failing_router()
    recorder = Recorder()
    router.add_observer(Broken())
    router.add_observer(recorder)
    result = dispatch(router, how, envelope())
    assert result.ran == ["failing_router.<locals>.fine"]
    assert [name for name, _ in result.failed] == ["failing_router.<locals>.broken"]
    fine, broken = "failing_router.<locals>.fine", "failing_router.<locals>.broken"
    assert recorder.calls == [
        ("event_started", NAME, "platform"),
        ("handler_started", "event-state", fine),
        ("handler_finished", "event-state", fine, "handler-state", "None"),
        ("handler_started", "event-state", broken),
        ("handler_finished", "event-state", broken, "handler-state", "ValueError('boom')"),
        ("event_finished", "event-state", [fine]),
    ]


def test_hooks_an_observer_does_not_override_are_skipped() -> None:
    ends = EndsOnly()
    observers = Observers((ends, Recorder()))
    assert [index for index, _ in observers.event_finished] == [0, 1]
    assert [index for index, _ in observers.handler_started] == [1]
    assert observers.per_handler
    assert not Observers((ends,)).per_handler
    assert not Observers((DispatchObserver(),)).event_finished

    router = failing_router()
    router.add_observer(ends)
    result = router.dispatch(envelope())
    assert ends.results == [result]


@pytest.mark.parametrize("how", ["dispatch", "dispatch_async"])
def test_events_nothing_runs_for_are_observed_too(how: str) -> None:
    router = Router(idempotency=InMemoryIdempotencyStore())
    router.on(NAME)(lambda event: None)
    recorder = Recorder()
    router.add_observer(recorder)
    first = dispatch(router, how, envelope())
    again = dispatch(router, how, envelope())
    assert first.ran
    assert not first.duplicate
    assert again.duplicate
    assert again.matched
    assert again.ran == []
    assert recorder.calls[-2:] == [
        ("event_started", NAME, "platform"),
        ("event_finished", "event-state", []),
    ]


def test_an_interrupted_handler_still_ends_its_observation_and_its_log_fields() -> None:
    from veba_sdk import _router

    router = Router()
    recorder = Recorder()
    router.add_observer(recorder)

    @router.on(NAME)
    def interrupted(event: Any) -> None:
        assert handler_context.get() is not None
        raise KeyboardInterrupt

    saved = _router._correlate
    _router._correlate = True
    try:
        with pytest.raises(KeyboardInterrupt):
            router.dispatch(envelope())
    finally:
        _router._correlate = saved
    assert handler_context.get() is None
    assert [call[0] for call in recorder.calls] == [
        "event_started",
        "handler_started",
        "handler_finished",
    ]


def test_a_cancelled_dispatch_ends_the_handlers_observation() -> None:
    router = Router()
    recorder = Recorder()
    router.add_observer(recorder)
    started = asyncio.Event()

    @router.on(NAME)
    async def slow(event: Any) -> None:
        started.set()
        await asyncio.sleep(60)

    async def run() -> None:
        task = asyncio.create_task(router.dispatch_async(envelope()))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert [call[0] for call in recorder.calls] == [
        "event_started",
        "handler_started",
        "handler_finished",
    ]


@pytest.mark.parametrize("how", ["dispatch", "dispatch_async"])
def test_both_drivers_record_values_replies_and_failures_alike(how: str) -> None:
    router = Router(sync_handlers_in_thread=False)

    @router.on(NAME)
    def value(event: Any) -> dict[str, int]:
        return {"n": 1}

    @router.on(NAME)
    async def reply(event: Any, ctx: Any) -> None:
        ctx.reply(type="com.example.reply", data={"key": event.key})

    @router.on(NAME)
    async def broken(event: Any) -> None:
        raise ValueError("async boom")

    result = dispatch(router, how, envelope(key=7))
    assert result.values == [{"n": 1}]
    assert [(r.type, r.data) for r in result.replies] == [("com.example.reply", {"key": 7})]
    assert [name for name, _ in result.failed] == [
        "test_both_drivers_record_values_replies_and_failures_alike.<locals>.broken"
    ]
    assert len(result.ran) == 2
    assert result.matched
    assert not result.ok


def test_duplicate_in_progress_is_a_veba_error() -> None:
    assert issubclass(DuplicateInProgress, VebaError)
    assert veba_sdk.DuplicateInProgress is DuplicateInProgress


def test_suggest_name_is_public_for_the_cli_and_the_testing_kit() -> None:
    assert "'VmPoweredOnEvent'" in suggest_name("VmPoweredOn")
    assert suggest_name("NothingLikeAnyEventClassAtAll") == ""
