"""pytest fixtures for VEBA functions, registered through the ``pytest11`` entry point.

* ``veba_router``: a fresh :class:`veba_sdk.Router` per test;
* ``veba_event``: :func:`veba_sdk.testing.make_event`, to build events by name;
* ``fake_vrops``: a :class:`veba_sdk.testing.FakeVrops` per test;
* ``vrops_client``: a ready :class:`veba_sdk.vrops.VropsClient` on that fake, which is also
  what ``VropsClient.shared()`` answers for the test (and ``AsyncVropsClient.shared()`` a
  client on the same fake), so handlers that call ``shared()`` run against the fake;
* ``async_vrops_client``: that :class:`veba_sdk.vrops.AsyncVropsClient`;
* ``fake_vrops_client``: a raw :class:`httpx.Client` wired to the fake in-process, for
  requests below the client (the vROps API itself).

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
    from veba_sdk.vrops import AsyncVropsClient, VropsClient

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
def _veba_vrops_clients(
    fake_vrops: FakeVrops,
) -> Iterator[tuple[VropsClient, AsyncVropsClient]]:
    """Both clients on ``fake_vrops``, set as what ``shared()`` answers until the test ends."""
    import asyncio

    from veba_sdk.vrops import AsyncVropsClient, VropsClient

    client = fake_vrops.client()
    async_client = fake_vrops.async_client()
    try:
        with VropsClient.set_shared(client), AsyncVropsClient.set_shared(async_client):
            yield client, async_client
    finally:
        client.close()
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: release its token too
            asyncio.run(async_client.aclose())  # in-process: no loop owns a connection


@pytest.fixture
def vrops_client(_veba_vrops_clients: tuple[VropsClient, AsyncVropsClient]) -> VropsClient:
    """A ready ``VropsClient`` on ``fake_vrops``; ``VropsClient.shared()`` answers it too.

    ``AsyncVropsClient.shared()`` answers an async client on the same fake meanwhile
    (``async_vrops_client``). Seed the fake first: ``fake_vrops.add_host("esx01", "host-19")``.
    """
    return _veba_vrops_clients[0]


@pytest.fixture
def async_vrops_client(
    _veba_vrops_clients: tuple[VropsClient, AsyncVropsClient],
) -> AsyncVropsClient:
    """A ready ``AsyncVropsClient`` on ``fake_vrops``; ``AsyncVropsClient.shared()`` answers it."""
    return _veba_vrops_clients[1]


@pytest.fixture
def fake_vrops_client(fake_vrops: FakeVrops) -> Iterator[httpx.Client]:
    """A raw httpx client whose requests ``fake_vrops`` answers in-process.

    For tests of the vROps API itself; a handler's test wants ``vrops_client`` (a
    ``VropsClient``, and what ``VropsClient.shared()`` answers).
    """
    import httpx

    with httpx.Client(base_url=FAKE_VROPS_URL, transport=fake_vrops.sync_transport()) as client:
        yield client


def pytest_configure(config: Any) -> None:
    """Declare the ``veba`` marker so ``--strict-markers`` runs accept it."""
    config.addinivalue_line("markers", "veba: a test of a VEBA function")
