"""The Knative app's garbage-collector threshold: set while serving, put back after, and only
over the running CPython's own default (700 up to 3.12, 2,000 from 3.13; the load benchmark
shows why; see ``veba_sdk.adapters._gc``)."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from veba_sdk import Router
from veba_sdk.adapters import knative
from veba_sdk.adapters._gc import INTERPRETER_DEFAULT, YoungThreshold


@pytest.fixture(autouse=True)
def interpreter_default() -> Iterator[None]:
    """Each test starts from CPython's default threshold and leaves the process as it was."""
    saved = gc.get_threshold()
    gc.set_threshold(INTERPRETER_DEFAULT, *saved[1:])
    yield
    gc.set_threshold(*saved)


def young() -> int:
    return gc.get_threshold()[0]


def lifespan(app: knative.ASGIApp) -> list[int]:
    """Run the lifespan protocol; the threshold as each message is answered."""
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    seen: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        seen.append(young())

    asyncio.run(app({"type": "lifespan"}, receive, send))
    return seen


def test_the_default_is_the_running_interpreters_own() -> None:
    fresh = subprocess.run(
        [sys.executable, "-I", "-c", "import gc; print(gc.get_threshold()[0])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(fresh.stdout) == INTERPRETER_DEFAULT


def test_the_app_serves_with_the_raised_threshold_and_puts_the_default_back() -> None:
    older = gc.get_threshold()[1:]
    assert lifespan(knative.asgi(Router())) == [10_000, INTERPRETER_DEFAULT]
    assert gc.get_threshold()[1:] == older  # the older generations are not touched


def test_a_chosen_value_is_used() -> None:
    assert lifespan(knative.asgi(Router(), gc_threshold=2_500)) == [2_500, INTERPRETER_DEFAULT]


def test_none_leaves_the_collector_alone() -> None:
    assert lifespan(knative.asgi(Router(), gc_threshold=None)) == [INTERPRETER_DEFAULT] * 2


def test_a_threshold_someone_set_is_left_alone() -> None:
    gc.set_threshold(1_234)
    assert lifespan(knative.asgi(Router())) == [1_234, 1_234]


def test_a_change_made_while_serving_is_not_undone() -> None:
    threshold = YoungThreshold(10_000)
    assert threshold.apply() is True
    gc.set_threshold(50_000)  # e.g. the user's own tuning after startup
    threshold.restore()
    assert young() == 50_000


def test_func_python_start_and_stop_do_the_same() -> None:
    function = knative.new(Router())
    function.start({})
    assert young() == 10_000
    function.stop()
    assert young() == INTERPRETER_DEFAULT


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10000"])
def test_a_value_that_is_no_positive_int_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="gc_threshold must be a positive int or None"):
        knative.asgi(Router(), gc_threshold=bad)
