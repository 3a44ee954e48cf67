"""Three replicas of a Knative app (uvicorn, separate processes) on one real redis-server:
concurrent deliveries and redeliveries run the handler once; a replica SIGKILLed mid-handler
leaves a claim that expires, then the redelivery runs; Redis stopped mid-run gives 500s, and
with the broker's retries no event is lost."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from _idem_parts import RedisServer, Replica, lines

from veba_sdk.testing import make_event, to_cloudevent

pytestmark = pytest.mark.slow


def _replicas(
    redis: RedisServer, tmp: Path, count: int = 3, **env: str
) -> tuple[list[Replica], Path]:
    log = tmp / "handled.log"
    base = {
        "REDIS_URL": redis.url,
        "REDIS_PREFIX": f"replicas:{uuid.uuid4().hex}:",
        "HANDLED_LOG": str(log),
        **env,
    }
    replicas = [Replica("_replica_app:app", base, tmp / f"replica-{n}.log") for n in range(count)]
    return replicas, log


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as session:
        yield session


def _deliver(http: httpx.Client, replica: Replica, event: Any) -> int:
    """One delivery as the event router makes it: a fresh random CloudEvent id each time."""
    headers, body = to_cloudevent(event, "router")
    try:
        return http.post(replica.url, headers=headers, content=body).status_code
    except httpx.TransportError:
        return 599  # the replica died under the request


def _broker(
    http: httpx.Client, replicas: list[Replica], event: Any, start: int, attempts: int = 60
) -> list[int]:
    """Deliver until a replica answers 2xx, as a broker retries (round robin, 0.25 s apart)."""
    statuses = []
    for attempt in range(attempts):
        status = _deliver(http, replicas[(start + attempt) % len(replicas)], event)
        statuses.append(status)
        if 200 <= status < 300:
            return statuses
        time.sleep(0.25)
    raise AssertionError(f"event {event.key} never delivered: {statuses}")


def test_concurrent_deliveries_and_redeliveries_run_once(
    redis_server: RedisServer, tmp_path: Path, http: httpx.Client
) -> None:
    replicas, log = _replicas(redis_server, tmp_path, HANDLER_DELAY="0.3")
    try:
        for replica in replicas:
            replica.wait_ready(http)
        events = [make_event("VmPoweredOnEvent") for _ in range(12)]
        barrier = threading.Barrier(3)

        def fan_out(n: int) -> list[list[int]]:
            # Each sender is a broker route to one replica, all three at once, per event.
            results = []
            for event in events:
                barrier.wait()
                results.append(_broker(http, replicas, event, start=n))
            return results

        with ThreadPoolExecutor(3) as pool:
            per_sender = list(pool.map(fan_out, range(3)))
        first_tries = [statuses[0] for sender in per_sender for statuses in sender]
        assert 500 in first_tries  # the losers were told to retry: in progress elsewhere
        # Redeliveries once handled: duplicates, acknowledged without running.
        for event in events:
            for replica in replicas:
                assert _deliver(http, replica, event) == 204
    finally:
        for replica in replicas:
            replica.stop()
    handled = Counter(line.split()[2] for line in lines(log) if line.startswith("handled"))
    assert handled == Counter({str(event.key): 1 for event in events})
    pids = {line.split()[1] for line in lines(log) if line.startswith("handled")}
    assert len(pids) >= 2  # the work really was spread over the replicas


def test_a_replica_killed_mid_handler_leaves_a_claim_that_expires(
    redis_server: RedisServer, tmp_path: Path, http: httpx.Client
) -> None:
    slow = tmp_path / "slow"
    slow.mkdir()
    replicas, log = _replicas(
        redis_server, tmp_path, IN_PROGRESS_TTL="3", SLOW_DIR=str(slow), HANDLER_DELAY="0.05"
    )
    try:
        for replica in replicas:
            replica.wait_ready(http)
        victim, survivor = replicas[0], replicas[1]
        event = make_event("VmPoweredOffEvent")
        (slow / str(event.key)).touch()  # the handler holds until this file goes
        first = threading.Thread(target=_deliver, args=(http, victim, event))
        first.start()
        deadline = time.monotonic() + 30
        while f"started {victim.pid} {event.key}" not in lines(log):
            assert time.monotonic() < deadline, lines(log)
            time.sleep(0.05)
        victim.kill()  # SIGKILL mid-handler: no abandon, no complete
        first.join(timeout=30)
        (slow / str(event.key)).unlink()
        killed_at = time.monotonic()
        # The claim is the dead replica's until it expires: redeliveries are told to retry.
        assert _deliver(http, survivor, event) == 500
        statuses = _broker(http, replicas[1:], event, start=0, attempts=80)
        waited = time.monotonic() - killed_at
        assert statuses[-1] == 204
        assert 500 in statuses[:-1]
        assert 2.0 <= waited <= 15.0  # in_progress_ttl is 3 s
        assert _deliver(http, replicas[2], event) == 204  # and now it is a duplicate
    finally:
        for replica in replicas:
            replica.stop()
    entries = lines(log)
    assert f"started {victim.pid} {event.key}" in entries
    assert f"handled {victim.pid} {event.key}" not in entries
    handled = [line for line in entries if line.startswith("handled")]
    assert len(handled) == 1
    assert handled[0].split()[1] in {str(replicas[1].pid), str(replicas[2].pid)}


def test_redis_stopped_mid_run_fails_deliveries_retryably_and_loses_nothing(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, http: httpx.Client
) -> None:
    redis = RedisServer(tmp_path_factory.mktemp("redis-outage"))
    redis.start()
    # A claim Redis stored just as it stopped, whose reply the replica never read, answered
    # 500 without running the handler and blocks redeliveries until its in-progress expiry:
    # 5 s here, well inside the broker's 80 attempts 0.25 s apart.
    replicas, log = _replicas(redis, tmp_path, HANDLER_DELAY="0.02", IN_PROGRESS_TTL="5")
    events = [make_event("VmPoweredOnEvent") for _ in range(40)]
    outage = {"down": False}
    try:
        for replica in replicas:
            replica.wait_ready(http)
        results: list[list[int]] = []

        def send_all() -> None:
            for index, event in enumerate(events):
                results.append(_broker(http, replicas, event, start=index, attempts=80))

        sender = threading.Thread(target=send_all)
        sender.start()
        deadline = time.monotonic() + 60
        while len(results) < 12:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        redis.stop()  # mid-run
        outage["down"] = True
        time.sleep(3)
        redis.start()  # same port, its append-only file: completed records survive
        outage["down"] = False
        sender.join(timeout=120)
        assert not sender.is_alive()
    finally:
        for replica in replicas:
            replica.stop()
        redis.stop()
    statuses = [status for delivery in results for status in delivery]
    assert len(results) == len(events)  # every event acknowledged in the end
    assert 500 in statuses  # the outage failed deliveries retryably (Knative retries 5xx)
    assert set(statuses) <= {204, 500}
    handled = Counter(line.split()[2] for line in lines(log) if line.startswith("handled"))
    assert set(handled) == {str(event.key) for event in events}  # nothing lost
    assert all(count == 1 for count in handled.values()), handled  # nor run twice
    reasons = [
        line
        for replica in replicas
        for line in replica.log.read_text().splitlines()
        if "idempotency store unavailable" in line
    ]
    assert reasons
    assert all("redis store at redis://127.0.0.1:" in line for line in reasons)
