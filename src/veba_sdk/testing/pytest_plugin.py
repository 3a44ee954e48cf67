"""pytest fixtures for VEBA functions, registered through the ``pytest11`` entry point.

* ``veba_router``: a fresh :class:`veba_sdk.Router` per test;
* ``veba_event``: :func:`veba_sdk.testing.make_event`, to build events by name;
* ``fake_vrops``: a :class:`veba_sdk.testing.FakeVrops` per test;
* ``fake_vrops_client``: an :class:`httpx.Client` wired to that fake in-process.

Every import happens inside the fixtures, so installing veba-sdk costs other projects' test
runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from veba_sdk import Router
    from veba_sdk.events import Event
    from veba_sdk.testing import FakeVrops

#: The base URL ``fake_vrops_client`` talks to (nothing listens there: the transport is in-process).
FAKE_VROPS_URL = "https://vrops.test"


@pytest.fixture
def veba_router() -> Router:
    """A fresh router for the test: register handlers on it and dispatch events."""
    from veba_sdk import Router

    return Router()


@pytest.fixture
def veba_event() -> Callable[..., Event]:
    """``veba_event("EnteredMaintenanceModeEvent", host__name="esx01")``: a realistic event."""
    from veba_sdk.testing import make_event

    return make_event


@pytest.fixture
def fake_vrops() -> FakeVrops:
    """A fresh, empty fake vROps; seed it with ``add_host(...)``."""
    from veba_sdk.testing import FakeVrops

    return FakeVrops()


@pytest.fixture
def fake_vrops_client(fake_vrops: FakeVrops) -> Iterator[httpx.Client]:
    """An httpx client whose requests ``fake_vrops`` answers in-process."""
    import httpx

    with httpx.Client(base_url=FAKE_VROPS_URL, transport=fake_vrops.sync_transport()) as client:
        yield client


def pytest_configure(config: Any) -> None:
    """Declare the ``veba`` marker so ``--strict-markers`` runs accept it."""
    config.addinivalue_line("markers", "veba: a test of a VEBA function")
