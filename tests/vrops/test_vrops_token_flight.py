"""The token's single acquire in flight: cancellation never strands the callers waiting on it,
sync threads and async tasks share it, and the sync client is the generated twin."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from vrops_consts import PASSWORD, USERNAME

from veba_sdk.testing import FakeVrops
from veba_sdk.vrops import VropsTokenAuth

ROOT = Path(__file__).resolve().parents[2]
TOKEN = {"token": "tok", "validity": 2**50, "expiresAt": "later"}


class SlowAcquire:
    """An async handler whose acquires wait for ``release``; counts them."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.acquires = 0
        self.started = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/acquire"):
            self.acquires += 1
            self.started.set()
            await self.release.wait()
            return httpx.Response(200, json={**TOKEN, "token": f"tok{self.acquires}"})
        return httpx.Response(200, json={"auth": request.headers["authorization"]})


@pytest.mark.anyio
async def test_a_cancelled_leader_lands_its_flight_and_a_waiter_acquires() -> None:
    handler = SlowAcquire()
    auth = VropsTokenAuth(USERNAME, PASSWORD)
    async with httpx.AsyncClient(
        base_url="http://vrops.test/suite-api", auth=auth, transport=httpx.MockTransport(handler)
    ) as http:
        leader = asyncio.create_task(http.get("/api/resources"))
        await handler.started.wait()
        waiter = asyncio.create_task(http.get("/api/resources"))
        await asyncio.sleep(0.01)  # the waiter boards the leader's flight
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        handler.release.set()
        response = await asyncio.wait_for(waiter, 5)
    assert response.json() == {"auth": "vRealizeOpsToken tok2"}
    assert handler.acquires == 2  # the cancelled one, and the waiter's own
    assert auth.acquire_count == 1


@pytest.mark.anyio
async def test_a_cancelled_waiter_does_not_cancel_the_flight_for_the_others() -> None:
    handler = SlowAcquire()
    auth = VropsTokenAuth(USERNAME, PASSWORD)
    async with httpx.AsyncClient(
        base_url="http://vrops.test/suite-api", auth=auth, transport=httpx.MockTransport(handler)
    ) as http:
        leader = asyncio.create_task(http.get("/api/resources"))
        await handler.started.wait()
        waiters = [asyncio.create_task(http.get("/api/resources")) for _ in range(5)]
        await asyncio.sleep(0.01)
        waiters[0].cancel()
        handler.release.set()
        answers = await asyncio.wait_for(asyncio.gather(leader, *waiters[1:]), 5)
        with pytest.raises(asyncio.CancelledError):
            await waiters[0]
    assert {r.json()["auth"] for r in answers} == {"vRealizeOpsToken tok1"}
    assert handler.acquires == 1


def test_sync_threads_and_an_event_loop_share_one_acquire() -> None:
    fake = FakeVrops(username=USERNAME, password=PASSWORD)
    rid = fake.add_host("esx01")
    fake.delay(0.005)
    auth = VropsTokenAuth(USERNAME, PASSWORD)
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []
    statuses: list[int] = []

    def sync_worker() -> None:
        barrier.wait()
        try:
            with httpx.Client(
                base_url="http://vrops.test/suite-api",
                auth=auth,
                transport=fake.sync_transport(),
                headers={"Accept": "application/json"},
            ) as http:
                statuses.append(http.get(f"/api/resources/{rid}").status_code)
        except BaseException as exc:  # asserted below
            errors.append(exc)

    async def tasks() -> None:
        async with httpx.AsyncClient(
            base_url="http://vrops.test/suite-api",
            auth=auth,
            transport=fake.transport(),
            headers={"Accept": "application/json"},
        ) as http:
            answers = await asyncio.gather(*(http.get(f"/api/resources/{rid}") for _ in range(10)))
            statuses.extend(r.status_code for r in answers)

    def async_worker() -> None:
        barrier.wait()
        try:
            asyncio.run(tasks())
        except BaseException as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sync_worker) for _ in range(4)]
    threads.append(threading.Thread(target=async_worker))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert statuses == [200] * 14
    assert fake.acquires == 1
    assert fake.violations == []


def test_the_sync_client_is_the_generated_twin_of_the_async_one() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_sync_vrops.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
