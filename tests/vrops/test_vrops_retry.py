"""Retries: 429/502/503/504 and dropped connections, with backoff and Retry-After, bounded."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from veba_sdk.testing import FakeVrops
from veba_sdk.vrops import AsyncVropsClient, RetryPolicy, VropsClient, VropsError


def test_503_503_200_succeeds(
    fake: FakeVrops, client: VropsClient, no_secrets: Callable[..., None]
) -> None:
    rid = fake.add_host("esx01")
    client.get_resource(rid)
    fake.fail_next(2, 503)
    assert client.get_resource(rid).name == "esx01"
    assert [c.status for c in fake.calls][-3:] == [503, 503, 200]
    no_secrets(client)


@pytest.mark.anyio
async def test_503_503_200_succeeds_async(
    fake: FakeVrops, make_aclient: Callable[..., AsyncVropsClient]
) -> None:
    rid = fake.add_host("esx01")
    client = make_aclient()
    await client.get_resource(rid)
    fake.fail_next(2, 503)
    assert (await client.get_resource(rid)).name == "esx01"
    assert [c.status for c in fake.calls][-3:] == [503, 503, 200]


@pytest.mark.parametrize("status", [429, 502, 504])
def test_other_retryable_statuses(fake: FakeVrops, client: VropsClient, status: int) -> None:
    rid = fake.add_host("esx01")
    fake.fail_next(1, status)
    client.mark_maintained(rid)
    assert fake.state_of(rid) == "MAINTAINED_MANUAL"


def test_429_with_retry_after_1_waits_and_succeeds(fake: FakeVrops, client: VropsClient) -> None:
    rid = fake.add_host("esx01")
    client.get_resource(rid)
    fake.fail_next(1, 429, retry_after=1)
    start = time.monotonic()
    assert client.get_resource(rid).name == "esx01"
    waited = time.monotonic() - start
    assert 1.0 <= waited < 3.0  # the server's 1 s, not the policy's milliseconds


@pytest.mark.anyio
async def test_429_with_retry_after_1_waits_and_succeeds_async(
    fake: FakeVrops, make_aclient: Callable[..., AsyncVropsClient]
) -> None:
    rid = fake.add_host("esx01")
    client = make_aclient()
    await client.get_resource(rid)
    fake.fail_next(1, 429, retry_after=1)
    start = time.monotonic()
    assert (await client.get_resource(rid)).name == "esx01"
    assert 1.0 <= time.monotonic() - start < 3.0


def test_retries_are_bounded_in_attempts(
    fake: FakeVrops, make_client: Callable[..., VropsClient], no_secrets: Callable[..., None]
) -> None:
    policy = RetryPolicy(
        attempts=3, timeout=10, wait_initial=0.001, wait_max=0.002, wait_jitter=0.001
    )
    client = make_client(retry=policy)
    rid = fake.add_host("esx01")
    client.get_resource(rid)
    fake.fail_next(50, 503)
    with pytest.raises(VropsError) as info:
        client.get_resource(rid)
    assert info.value.status == 503
    assert fake.counts["GET /api/resources/{id}"] == 1 + 3
    no_secrets(info.value, client)


def test_retries_are_bounded_in_total_time(
    fake: FakeVrops, make_client: Callable[..., VropsClient]
) -> None:
    policy = RetryPolicy(
        attempts=100, timeout=0.3, wait_initial=0.05, wait_max=0.05, wait_jitter=0.0
    )
    client = make_client(retry=policy)
    rid = fake.add_host("esx01")
    fake.fail_next(1000, 503, path="/api/resources/")
    start = time.monotonic()
    with pytest.raises(VropsError):
        client.get_resource(rid)
    assert time.monotonic() - start < 1.5
    assert fake.counts["GET /api/resources/{id}"] < 20


def test_404_and_400_are_not_retried(fake: FakeVrops, client: VropsClient) -> None:
    fake.fail_next(1, 400, path="/api/resources")
    with pytest.raises(VropsError) as info:
        client.find_resources("x")
    assert info.value.status == 400
    assert fake.counts["GET /api/resources"] == 1
    with pytest.raises(VropsError) as missing:
        client.get_resource("6c3a0c2a-0000-4b8e-9d3f-2f7a1d0e5b01")
    assert missing.value.status == 404
    assert fake.counts["GET /api/resources/{id}"] == 1


def test_dropped_connections_are_retried(
    fake: FakeVrops, client: VropsClient, no_secrets: Callable[..., None]
) -> None:
    rid = fake.add_host("esx01")
    client.get_resource(rid)
    fake.reset_next(2)
    client.mark_maintained(rid, duration=10)
    assert fake.state_of(rid) == "MAINTAINED"
    assert fake.counts["PUT /api/resources/{id}/maintained"] == 3
    no_secrets(client)


@pytest.mark.anyio
async def test_dropped_connections_are_retried_async(
    fake: FakeVrops, make_aclient: Callable[..., AsyncVropsClient]
) -> None:
    rid = fake.add_host("esx01")
    client = make_aclient()
    fake.reset_next(1)  # hits the acquire
    await client.mark_maintained(rid)
    assert fake.acquires == 2
    assert fake.state_of(rid) == "MAINTAINED_MANUAL"


def test_connection_errors_after_the_last_attempt_are_a_vrops_error(
    fake: FakeVrops, make_client: Callable[..., VropsClient], no_secrets: Callable[..., None]
) -> None:
    client = make_client(
        retry=RetryPolicy(attempts=2, wait_initial=0.001, wait_max=0.001, wait_jitter=0.0)
    )
    rid = fake.add_host("esx01")
    fake.reset_next(10)
    with pytest.raises(VropsError) as info:
        client.get_resource(rid)
    assert info.value.status is None
    assert "ConnectError" in str(info.value)
    no_secrets(info.value, client)


def test_acquire_503_is_retried_too(fake: FakeVrops, client: VropsClient) -> None:
    rid = fake.add_host("esx01")
    fake.fail_next(1, 503, path="/token/acquire")
    assert client.get_resource(rid).name == "esx01"
    assert fake.acquires == 2


def test_retry_after_http_date_and_caps() -> None:
    from veba_sdk.vrops._base import parse_retry_after

    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    assert when == pytest.approx(10.0)
