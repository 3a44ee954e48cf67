"""``VropsClient.shared()`` / ``AsyncVropsClient.shared()`` and the test kit's ``vrops_client``.

The shared client is made from the environment on first use (so a handler module imports with
no vROps settings), once for every thread (or once per running loop for the async twin), and
the ``vrops_client`` fixture makes handlers that call ``shared()`` run against ``FakeVrops``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from veba_sdk import Router
from veba_sdk.testing import FakeVrops, make_event, to_cloudevent
from veba_sdk.vrops import AsyncVropsClient, VropsClient, VropsError
from veba_sdk.vrops._base import ENV_NAMES


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No vROps settings anywhere, and no shared client left over from another test."""
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name + "_FILE", raising=False)
    monkeypatch.setenv("VEBA_SECRETS_DIR", str(tmp_path))
    VropsClient.set_shared(None)
    AsyncVropsClient.set_shared(None)
    yield monkeypatch
    VropsClient.set_shared(None)
    AsyncVropsClient.set_shared(None)


@pytest.fixture
def settings(no_settings: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """vROps settings in the environment (nothing is contacted: clients are only made)."""
    no_settings.setenv("VROPS_HOST", "vrops.example.com")
    no_settings.setenv("VROPS_USERNAME", "admin")
    no_settings.setenv("VROPS_PASSWORD", "s3cret-Passw0rd")
    return no_settings


def test_a_handler_module_imports_without_settings(tmp_path: Path) -> None:
    module = tmp_path / "handlers.py"
    module.write_text(
        textwrap.dedent(
            """
            from veba_sdk import Router
            from veba_sdk.vrops import VropsClient

            router = Router()

            @router.on("EnteredMaintenanceModeEvent")
            def mark(event, ctx):
                vrops = VropsClient.shared()
                vrops.mark_host_maintained(event.host.name)
            """
        )
    )
    code = (
        "import os, sys\n"
        "for k in list(os.environ):\n"
        "    if k.lower().startswith('vrops'): del os.environ[k]\n"
        f"os.environ['VEBA_SECRETS_DIR'] = {str(tmp_path)!r}\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import handlers\n"
        "from veba_sdk.testing import make_event\n"
        "from veba_sdk.vrops import VropsClient, VropsError\n"
        "try:\n"
        "    VropsClient.shared()\n"
        "except VropsError as exc:\n"
        "    print('VropsError', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.startswith("VropsError vROps settings missing: VROPS_HOST/vropsFqdn")


def test_missing_settings_raise_and_nothing_is_kept(no_settings: pytest.MonkeyPatch) -> None:
    with pytest.raises(VropsError, match="vROps settings missing"):
        VropsClient.shared()
    no_settings.setenv("VROPS_HOST", "vrops.example.com")
    no_settings.setenv("VROPS_USERNAME", "admin")
    no_settings.setenv("VROPS_PASSWORD", "s3cret-Passw0rd")
    client = VropsClient.shared()
    assert str(client.base_url).rstrip("/") == "https://vrops.example.com/suite-api"


def test_one_client_for_every_thread(settings: pytest.MonkeyPatch) -> None:
    made: list[VropsClient] = []
    real = VropsClient.from_env.__func__  # type: ignore[attr-defined]

    def counting(cls: type[VropsClient], /, **options: Any) -> VropsClient:
        client: VropsClient = real(cls, **options)
        made.append(client)
        return client

    settings.setattr(VropsClient, "from_env", classmethod(counting))
    VropsClient.set_shared(None)
    start = threading.Barrier(16)
    seen: list[VropsClient] = []

    def use() -> None:
        start.wait()
        seen.append(VropsClient.shared())

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len(seen) == 16
    assert all(client is made[0] for client in seen)


def test_options_apply_once_and_must_agree(settings: pytest.MonkeyPatch) -> None:
    client = VropsClient.shared(cache_host_ids=True)
    assert client._core.host_ids is not None  # cache_host_ids=True reached the client
    assert VropsClient.shared() is client
    assert VropsClient.shared(cache_host_ids=True) is client
    with pytest.raises(ValueError, match=r"first called with \['cache_host_ids'\]"):
        VropsClient.shared(page_size=10)


def test_a_closed_shared_client_is_made_again(settings: pytest.MonkeyPatch) -> None:
    first = VropsClient.shared()
    with first:  # the mistake: closes the process-wide client
        pass
    second = VropsClient.shared()
    assert second is not first
    assert VropsClient.shared() is second


def test_set_shared_replaces_and_restores(settings: pytest.MonkeyPatch) -> None:
    made = VropsClient.shared()
    fake = FakeVrops()
    with fake.client() as mine:
        with VropsClient.set_shared(mine):
            assert VropsClient.shared() is mine
            assert VropsClient.shared(cache_host_ids=True) is mine  # options: the test's client
        assert VropsClient.shared() is made
        override = VropsClient.set_shared(mine)
        assert VropsClient.shared() is mine
        override.restore()
        override.restore()
        assert VropsClient.shared() is made


def test_reset_reads_the_environment_again_and_releases_the_token(
    settings: pytest.MonkeyPatch,
) -> None:
    fake = FakeVrops()
    fake.add_host("esx01.lab", "host-19")
    with fake.serve() as url:
        settings.setenv("VROPS_HOST", url)
        settings.setenv("VROPS_USERNAME", fake.username)
        settings.setenv("VROPS_PASSWORD", "fake-Passw0rd!")
        VropsClient.set_shared(None)
        client = VropsClient.shared()
        client.mark_host_maintained("esx01.lab")
        assert fake.state_of("esx01.lab") == "MAINTAINED_MANUAL"
        VropsClient.set_shared(None)  # closes the client made from the environment
        assert fake.counts["POST /api/auth/token/release"] == 1
        assert VropsClient.shared() is not client


def test_async_shared_needs_a_running_loop(settings: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match=r"needs a running event loop"):
        AsyncVropsClient.shared()


def test_async_shared_is_one_client_per_loop(settings: pytest.MonkeyPatch) -> None:
    async def twice() -> tuple[AsyncVropsClient, AsyncVropsClient]:
        first = AsyncVropsClient.shared()
        await asyncio.sleep(0)
        return first, AsyncVropsClient.shared()

    a1, a2 = asyncio.run(twice())
    b1, b2 = asyncio.run(twice())
    assert a1 is a2
    assert b1 is b2
    assert a1 is not b1

    async def one() -> AsyncVropsClient:
        await asyncio.sleep(0)
        return AsyncVropsClient.shared()

    async def tasks() -> list[AsyncVropsClient]:
        return list(await asyncio.gather(*(one() for _ in range(8))))

    clients = asyncio.run(tasks())
    assert all(client is clients[0] for client in clients)


def test_async_override_applies_on_every_loop(settings: pytest.MonkeyPatch) -> None:
    mine = FakeVrops().async_client()
    with AsyncVropsClient.set_shared(mine):

        async def get() -> AsyncVropsClient:
            return AsyncVropsClient.shared()

        assert asyncio.run(get()) is mine
        assert asyncio.run(get()) is mine


# -- the pytest plugin's fixtures ------------------------------------------------------------


def _router() -> Router:
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def mark(event: Any) -> None:
        VropsClient.shared().mark_host_maintained(event.host.name)

    @router.on("ExitMaintenanceModeEvent")
    async def unmark(event: Any) -> None:
        await AsyncVropsClient.shared().unmark_host_maintained(event.host.name)

    return router


def test_vrops_client_fixture_is_what_shared_answers(
    no_settings: pytest.MonkeyPatch,
    fake_vrops: FakeVrops,
    vrops_client: VropsClient,
    async_vrops_client: AsyncVropsClient,
) -> None:
    assert isinstance(vrops_client, VropsClient)
    assert VropsClient.shared() is vrops_client
    fake_vrops.add_host("esx01.lab", "host-19")
    router = _router()
    for name, state in (
        ("EnteredMaintenanceModeEvent", "MAINTAINED_MANUAL"),
        ("ExitMaintenanceModeEvent", "STARTED"),
    ):
        headers, body = to_cloudevent(make_event(name, host__name="esx01.lab"))
        from veba_sdk import decode_http

        router.dispatch(decode_http(headers, body)).raise_for_failure()
        assert fake_vrops.state_of("esx01.lab") == state
    assert fake_vrops.acquires == 2  # one token per client, not per event
    maintenance = vrops_client.maintenance_state(vrops_client.host_id("esx01.lab"))
    assert maintenance.resource_state == "STARTED"


def test_after_the_fixture_shared_is_the_environment_again(
    no_settings: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(VropsError):
        VropsClient.shared()
