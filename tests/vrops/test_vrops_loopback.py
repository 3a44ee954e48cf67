"""The client against FakeVrops served by uvicorn on 127.0.0.1: real HTTP, real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest
from spec import AsyncCheckedTransport, CheckedTransport, SpecChecker
from vrops_consts import FAST_RETRY, PASSWORD, USERNAME

from veba_sdk.testing import FakeVrops
from veba_sdk.vrops import AsyncVropsClient, VropsClient


@pytest.fixture
def served(fake: FakeVrops) -> Iterator[str]:
    with fake.serve() as url:
        yield url


def test_sync_client_over_loopback(
    fake: FakeVrops, served: str, checker: SpecChecker, no_secrets: Callable[..., None]
) -> None:
    assert served.startswith("http://127.0.0.1:")
    fake.add_host("esx010")
    rid = fake.add_host("esx01")
    transport = CheckedTransport(httpx.HTTPTransport(), checker)
    with VropsClient(served, USERNAME, PASSWORD, transport=transport, retry=FAST_RETRY) as client:
        assert client.find_host("esx01").identifier == rid
        fake.fail_next(1, 503)
        client.mark_maintained(rid, duration=60)
        assert fake.state_of("esx01") == "MAINTAINED"
        fake.reset_next(1)  # uvicorn drops the connection mid-response
        assert client.get_resource(rid).state.resource_state == "MAINTAINED"
        fake.expire_tokens()
        client.unmark_maintained(rid)
        assert fake.state_of("esx01") == "STARTED"
    assert fake.acquires == 2
    assert fake.live_tokens == 0
    assert len(checker.checked) > 10
    no_secrets(client)


def test_timeouts_apply_to_every_call(fake: FakeVrops, served: str) -> None:
    rid = fake.add_host("esx01")
    with VropsClient(served, USERNAME, PASSWORD, timeout=0.2, retry=FAST_RETRY) as client:
        client.get_resource(rid)
        fake.delay(1.0, n=1)  # the GET times out once and is retried (idempotent)
        assert client.get_resource(rid).name == "esx01"
    assert fake.counts["GET /api/resources/{id}"] == 3


@pytest.mark.anyio
async def test_async_client_over_loopback(
    fake: FakeVrops, served: str, checker: SpecChecker
) -> None:
    hosts = [fake.add_host(f"esx{i:02}") for i in range(20)]
    transport = AsyncCheckedTransport(httpx.AsyncHTTPTransport(), checker)
    async with AsyncVropsClient(
        served, USERNAME, PASSWORD, transport=transport, retry=FAST_RETRY
    ) as client:
        await asyncio.gather(*(client.mark_host_maintained(f"esx{i:02}") for i in range(20)))
    assert {fake.state_of(h) for h in hosts} == {"MAINTAINED_MANUAL"}
    assert fake.acquires == 1
