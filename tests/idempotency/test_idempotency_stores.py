"""The three stores keep one contract: atomic claims, in-progress expiry, completed TTLs,
abandon on failure, async twins that never block the loop, and a store that is down failing
deliveries retryably instead of skipping them. Redis and DynamoDB are real servers here."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import pytest
from _idem_parts import TABLE, RedisServer, free_port

from veba_sdk import Router
from veba_sdk.idempotency import (
    AsyncIdempotencyStore,
    DynamoDBIdempotencyStore,
    IdempotencyStore,
    IdempotencyStoreError,
    InMemoryIdempotencyStore,
    RedisIdempotencyStore,
)
from veba_sdk.testing import client, make_event

StoreFactory = Callable[..., Any]
Platform = Literal["knative", "openfaas", "lambda"]
KINDS = ["memory", "redis", "dynamodb"]


@pytest.fixture(params=KINDS)
def make_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    kind = request.param
    made: list[Any] = []

    def factory(**options: Any) -> Any:
        if kind == "memory":
            store: Any = InMemoryIdempotencyStore(**options)
        elif kind == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            store = RedisIdempotencyStore.from_url(
                server.url, prefix=f"test:{uuid.uuid4().hex}:", **options
            )
        else:
            endpoint = request.getfixturevalue("dynamodb_endpoint")
            store = DynamoDBIdempotencyStore(
                TABLE, endpoint_url=endpoint, region_name="us-east-1", **options
            )
        made.append(store)
        return store

    yield factory
    for store in made:
        if isinstance(store, RedisIdempotencyStore):
            store.close()


def _key() -> str:
    return f"https://vc01/sdk#{uuid.uuid4().int % 10**8}@2026-12-05T10:00:00+00:00"


def test_every_store_meets_the_protocols(make_store: StoreFactory) -> None:
    store = make_store()
    assert isinstance(store, IdempotencyStore)
    shared = not isinstance(store, InMemoryIdempotencyStore)
    assert isinstance(store, AsyncIdempotencyStore) is shared


def test_claim_complete_duplicate_and_abandon(make_store: StoreFactory) -> None:
    store = make_store()
    key, other = _key(), _key()
    assert store.begin(key) == "new"
    assert store.begin(key) == "in_progress"
    store.complete(key)
    assert store.begin(key) == "completed"
    assert store.begin(other) == "new"
    store.abandon(other)  # a failed handling: the redelivery runs
    assert store.begin(other) == "new"


def test_a_dead_claim_expires_and_completed_records_have_a_ttl(make_store: StoreFactory) -> None:
    store = make_store(ttl=1, in_progress_ttl=1)
    dead, done = _key(), _key()
    assert store.begin(dead) == "new"  # its process is killed: never completed nor abandoned
    assert store.begin(done) == "new"
    store.complete(done)
    assert store.begin(dead) == "in_progress"
    assert store.begin(done) == "completed"
    time.sleep(2.1)  # DynamoDB's expirations are whole seconds
    assert store.begin(dead) == "new"
    assert store.begin(done) == "new"


def test_of_concurrent_claims_exactly_one_wins(make_store: StoreFactory) -> None:
    store = make_store()
    keys = [_key() for _ in range(5)]
    barrier = threading.Barrier(12)

    def claim(key: str) -> str:
        barrier.wait()
        outcome: str = store.begin(key)
        return outcome

    for key in keys:
        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(claim, [key] * 12))
        assert outcomes.count("new") == 1, outcomes
        assert outcomes.count("in_progress") == 11


@pytest.mark.parametrize("kind", ["redis", "dynamodb"])
def test_async_twins_claim_atomically(kind: str, request: pytest.FixtureRequest) -> None:
    if kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        store: Any = RedisIdempotencyStore.from_url(server.url, prefix=f"a:{uuid.uuid4().hex}:")
    else:
        endpoint = request.getfixturevalue("dynamodb_endpoint")
        store = DynamoDBIdempotencyStore(TABLE, endpoint_url=endpoint, region_name="us-east-1")
    key = _key()

    async def run() -> list[str]:
        outcomes = await asyncio.gather(*(store.begin_async(key) for _ in range(10)))
        await store.complete_async(key)
        outcomes.append(await store.begin_async(key))
        other = _key()
        outcomes.append(await store.begin_async(other))
        await store.abandon_async(other)
        outcomes.append(await store.begin_async(other))
        if isinstance(store, RedisIdempotencyStore):
            await store.aclose()  # the next call on this loop connects again
            outcomes.append(await store.begin_async(other))
            await store.aclose()
        else:
            outcomes.append(await store.begin_async(other))
        return list(outcomes)

    outcomes = asyncio.run(run())
    assert outcomes[:10].count("new") == 1
    assert outcomes[10:] == ["completed", "new", "new", "in_progress"]


@pytest.mark.parametrize("platform", ["knative", "openfaas", "lambda"])
def test_the_router_runs_an_event_once_across_redeliveries(
    make_store: StoreFactory, platform: Platform
) -> None:
    store = make_store()
    router = Router(idempotency=store)
    ran: list[int] = []
    fail = {"once": True}

    @router.on("VmPoweredOnEvent")
    def powered_on(event: Any) -> None:
        ran.append(event.key)

    @router.on("VmPoweredOffEvent")
    def powered_off(event: Any) -> None:
        if fail.pop("once", False):
            raise RuntimeError("vROps is down")
        ran.append(event.key)

    on, off = make_event("VmPoweredOnEvent"), make_event("VmPoweredOffEvent")
    with client(router, platform=platform) as function:
        # The router's producer: a fresh random CloudEvent id on every delivery.
        assert function.send(on).ok
        assert function.send(on).ok
        assert function.send(on).ok
        assert ran == [on.key]
        assert function.send(off).status == 500  # failed: the claim is abandoned
        assert function.send(off).ok  # so the redelivery runs
        assert function.send(off).ok  # and the next is a duplicate
    assert ran == [on.key, off.key]


def test_async_dispatch_awaits_the_store_without_blocking_the_loop() -> None:
    """A Redis that accepts connections and never answers: the loop keeps ticking while the
    claim waits, and the delivery then fails retryably."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    store = RedisIdempotencyStore.from_url(
        f"redis://127.0.0.1:{port}/0", socket_timeout=1.0, socket_connect_timeout=1.0
    )
    router = Router(idempotency=store)
    ran: list[str] = []

    @router.on("VmPoweredOnEvent")
    async def handler(event: Any) -> None:
        ran.append("ran")

    from veba_sdk.testing import to_cloudevent

    headers, body = to_cloudevent(make_event("VmPoweredOnEvent"))
    from veba_sdk import decode_http

    envelope = decode_http(headers, body)

    async def run() -> tuple[Any, int]:
        ticks = 0
        task = asyncio.create_task(router.dispatch_async(envelope))
        while not task.done():
            await asyncio.sleep(0.01)
            ticks += 1
        return task.result(), ticks

    try:
        result, ticks = asyncio.run(run())
    finally:
        silent.close()
    assert ticks >= 50  # about a second of waiting, the loop free all along
    assert not result.ok
    assert ran == []
    name, exc = result.failed[0]
    assert name == "idempotency"
    assert isinstance(exc, IdempotencyStoreError)


@pytest.mark.parametrize("platform", ["knative", "openfaas", "lambda"])
@pytest.mark.parametrize("kind", ["redis", "dynamodb"])
def test_a_store_that_is_down_fails_the_delivery_with_one_log_line(
    kind: str, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    if kind == "redis":
        store: Any = RedisIdempotencyStore.from_url(f"redis://127.0.0.1:{port}/0")
    else:
        from botocore.config import Config

        store = DynamoDBIdempotencyStore(
            TABLE,
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            config=Config(connect_timeout=1, retries={"max_attempts": 1}),
        )
    router = Router(idempotency=store)
    ran: list[str] = []

    @router.on("VmPoweredOnEvent")
    def handler(event: Any) -> None:
        ran.append("ran")

    with caplog.at_level(logging.ERROR), client(router, platform=platform) as function:
        response = function.send("VmPoweredOnEvent")
    assert response.status == 500  # Knative and OpenFaaS retry it; Lambda's raise retries
    assert "idempotency" in response.text
    assert ran == []  # never handled without a claim
    lines = [r.getMessage() for r in caplog.records if "idempotency store" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "\n" not in lines[0]
    assert "not handled; the delivery fails for a retry" in lines[0]
    assert ("redis store at" if kind == "redis" else "dynamodb store (table") in lines[0]


def test_dynamodb_reads_the_item_when_a_refusal_does_not_carry_it(
    dynamodb_endpoint: str,
) -> None:
    """DynamoDB-compatible services that ignore ReturnValuesOnConditionCheckFailure: the store
    falls back to a consistent GetItem."""
    import boto3

    real = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    calls: list[str] = []

    class WithoutOldItem:
        exceptions = real.exceptions

        def put_item(self, **request: Any) -> Any:
            calls.append("put_item")
            request.pop("ReturnValuesOnConditionCheckFailure", None)
            return real.put_item(**request)

        def get_item(self, **request: Any) -> Any:
            calls.append("get_item")
            return real.get_item(**request)

    store = DynamoDBIdempotencyStore(TABLE, client=WithoutOldItem())
    key = _key()
    assert store.begin(key) == "new"
    assert store.begin(key) == "in_progress"
    assert calls == ["put_item", "put_item", "get_item"]
