"""The token: one acquire under concurrency, renewal, re-acquire on 401, release, secrets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import pytest
from vrops_consts import PASSWORD, USERNAME

from veba_sdk.testing import FakeVrops
from veba_sdk.vrops import AsyncVropsClient, VropsAuthError, VropsClient, VropsTokenAuth


@pytest.mark.anyio
async def test_100_concurrent_tasks_on_a_cold_client_acquire_once(
    fake: FakeVrops, make_aclient: Callable[..., AsyncVropsClient]
) -> None:
    rid = fake.add_host("esx01")
    fake.delay(0.001)  # every answer yields to the loop, so tasks really interleave
    client = make_aclient()
    results = await asyncio.gather(*(client.get_resource(rid) for _ in range(100)))
    assert {r.identifier for r in results} == {rid}
    assert fake.acquires == 1
    assert fake.counts["GET /api/resources/{id}"] == 100
    assert client.auth.acquire_count == 1


def test_32_threads_on_a_cold_client_acquire_once(
    fake: FakeVrops, make_client: Callable[..., VropsClient]
) -> None:
    rid = fake.add_host("esx01")
    fake.delay(0.005)  # widen the race: the acquire takes time while 31 threads wait
    client = make_client()
    barrier = threading.Barrier(32)
    errors: list[BaseException] = []
    names: list[str] = []

    def work() -> None:
        barrier.wait()
        try:
            names.append(client.get_resource(rid).name)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert names == ["esx01"] * 32
    assert fake.acquires == 1


def test_one_auth_shared_by_two_event_loops_in_two_threads_acquires_once(
    fake: FakeVrops,
) -> None:
    rid = fake.add_host("esx01")
    fake.delay(0.005)
    auth = VropsTokenAuth(USERNAME, PASSWORD)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    async def run() -> None:
        async with httpx.AsyncClient(
            base_url="http://vrops.test/suite-api",
            auth=auth,
            transport=fake.transport(),
            headers={"Accept": "application/json"},
        ) as http:
            responses = await asyncio.gather(
                *(http.get(f"/api/resources/{rid}") for _ in range(20))
            )
            assert {r.status_code for r in responses} == {200}

    def thread() -> None:
        barrier.wait()
        try:
            asyncio.run(run())
        except BaseException as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=thread) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fake.acquires == 1


@pytest.mark.anyio
async def test_token_expiry_mid_run_reacquires_once_and_no_call_fails(
    fake: FakeVrops,
    make_aclient: Callable[..., AsyncVropsClient],
    no_secrets: Callable[..., None],
) -> None:
    rid = fake.add_host("esx01")
    client = make_aclient()
    await client.get_resource(rid)  # warm
    fake.delay(0.001)

    async def call(i: int) -> str:
        if i == 25:
            fake.expire_tokens()
        return (await client.get_resource(rid)).name

    names = await asyncio.gather(*(call(i) for i in range(60)))
    assert names == ["esx01"] * 60
    assert fake.acquires == 2  # the first, and exactly one re-acquire
    assert any(c.status == 401 for c in fake.calls)  # the expiry was really hit
    no_secrets(client, client.auth)


def test_token_expiry_sync_reacquires_once(
    fake: FakeVrops, client: VropsClient, no_secrets: Callable[..., None]
) -> None:
    rid = fake.add_host("esx01")
    client.get_resource(rid)
    fake.expire_tokens()
    assert client.get_resource(rid).name == "esx01"
    assert fake.acquires == 2
    assert [c.status for c in fake.calls][-3:] == [401, 200, 200]
    no_secrets(client)


def test_persistent_401_raises_auth_error_after_one_retry(
    fake: FakeVrops, client: VropsClient, no_secrets: Callable[..., None]
) -> None:
    rid = fake.add_host("esx01")
    fake.fail_next(100, 401, path="/api/resources/")
    with pytest.raises(VropsAuthError) as info:
        client.get_resource(rid)
    assert info.value.status == 401
    assert info.value.api_error_code == 1512
    assert fake.counts["GET /api/resources/{id}"] == 2  # the call and one retry, no loop
    assert fake.acquires == 2  # the first acquire and one re-acquire
    no_secrets(info.value, client, client.auth)


@pytest.mark.anyio
async def test_persistent_401_async(
    fake: FakeVrops,
    make_aclient: Callable[..., AsyncVropsClient],
    no_secrets: Callable[..., None],
) -> None:
    rid = fake.add_host("esx01")
    client = make_aclient()
    fake.fail_next(100, 401, path="/api/resources/")
    with pytest.raises(VropsAuthError) as info:
        await client.get_resource(rid)
    assert fake.counts["GET /api/resources/{id}"] == 2
    assert fake.acquires == 2
    no_secrets(info.value, client)


def test_wrong_password_is_an_auth_error_without_retries(
    fake: FakeVrops, make_client: Callable[..., VropsClient], no_secrets: Callable[..., None]
) -> None:
    wrong = "Wr0ng-Passw0rd-for-vrops"
    client = make_client(password=wrong)
    fake.add_host("esx01")
    with pytest.raises(VropsAuthError) as info:
        client.find_host("esx01")
    assert fake.acquires == 1
    assert "acquire refused" in str(info.value)
    no_secrets(info.value, client)
    assert wrong not in str(info.value)
    assert wrong not in repr(client.auth)


def test_acquire_has_no_authorization_and_the_scheme_is_selectable(
    fake: FakeVrops, make_client: Callable[..., VropsClient]
) -> None:
    seen: list[httpx.Request] = []
    inner = fake.sync_transport()

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return inner.handle_request(request)

    client = make_client(transport=Spy(), scheme="OpsToken")
    rid = fake.add_host("esx01")
    client.get_resource(rid)
    acquire, get = seen
    assert acquire.url.path == "/suite-api/api/auth/token/acquire"
    assert "authorization" not in acquire.headers
    assert acquire.headers["accept"] == "application/json"
    assert get.headers["authorization"].startswith("OpsToken ")
    assert get.headers["accept"] == "application/json"


def test_close_releases_the_token(fake: FakeVrops, make_client: Callable[..., VropsClient]) -> None:
    client = make_client()
    client.get_resource(fake.add_host("esx01"))
    assert fake.live_tokens == 1
    client.close()
    client.close()  # idempotent
    assert fake.counts["POST /api/auth/token/release"] == 1
    assert fake.live_tokens == 0


@pytest.mark.anyio
async def test_aclose_releases_the_token(
    fake: FakeVrops, make_aclient: Callable[..., AsyncVropsClient]
) -> None:
    async with make_aclient() as client:
        await client.get_resource(fake.add_host("esx01"))
        assert fake.live_tokens == 1
    assert fake.live_tokens == 0


def test_cold_close_sends_nothing(fake: FakeVrops, make_client: Callable[..., VropsClient]) -> None:
    make_client().close()
    assert fake.total_requests() == 0


# -- the flow driven by hand (no transport at all) --------------------------------


def _token_response(request: httpx.Request, token: str, validity_ms: int) -> httpx.Response:
    return httpx.Response(
        200,
        json={"token": token, "validity": validity_ms, "expiresAt": "whenever"},
        request=request,
    )


def test_renews_ahead_of_validity_and_never_parses_expires_at() -> None:
    now = [1_000_000.0]
    auth = VropsTokenAuth(USERNAME, PASSWORD, renew_before=300, clock=lambda: now[0])
    lifetime_ms = 6 * 3600 * 1000

    def call() -> list[httpx.Request]:
        request = httpx.Request("GET", "https://vrops/suite-api/api/resources")
        flow = auth.sync_auth_flow(request)
        sent = [next(flow)]
        while True:
            last = sent[-1]
            if last.url.path.endswith("/token/acquire"):
                response = _token_response(
                    last, f"tok-{len(sent)}-{now[0]}", int(now[0] * 1000) + lifetime_ms
                )
            else:
                response = httpx.Response(200, json={}, request=last)
            try:
                sent.append(flow.send(response))
            except StopIteration:
                return sent

    assert [r.url.path.rsplit("/", 1)[-1] for r in call()] == ["acquire", "resources"]
    now[0] += 6 * 3600 - 301  # still more than the margin before validity
    assert len(call()) == 1
    now[0] += 2  # now inside the 300 s margin: renewed before it expires
    sent = call()
    assert [r.url.path.rsplit("/", 1)[-1] for r in sent] == ["acquire", "resources"]
    assert auth.acquire_count == 2


def test_unlocked_auth_flow_reacquires_on_401_once() -> None:
    auth = VropsTokenAuth(USERNAME, PASSWORD, auth_source="Local Users")
    request = httpx.Request("GET", "https://vrops/suite-api/api/resources")
    flow = auth.auth_flow(request)
    acquire = next(flow)
    assert acquire.url.path == "/suite-api/api/auth/token/acquire"
    assert b'"authSource": "Local Users"' in acquire.content or b'"authSource":"Local Users"' in (
        acquire.content
    )
    sent = flow.send(_token_response(acquire, "t1", 2**62))
    assert sent.headers["authorization"] == "vRealizeOpsToken t1"
    again = flow.send(httpx.Response(401, json={"message": "x", "apiErrorCode": 1512}))
    assert again.url.path.endswith("/token/acquire")
    retried = flow.send(_token_response(again, "t2", 2**62))
    assert retried.headers["authorization"] == "vRealizeOpsToken t2"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))
    assert "t1" not in repr(auth)
    assert PASSWORD not in repr(auth)


def test_bad_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="scheme"):
        VropsTokenAuth(USERNAME, PASSWORD, scheme="Basic")  # type: ignore[arg-type]  # on purpose
