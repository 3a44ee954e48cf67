"""The live event viewer in headless Chromium, on ``veba serve --viewer``.

Events sent with ``veba send`` appear on the page at ``/_veba/`` as they arrive, with their
CloudEvent attributes, data, and each handler's outcome; the name filter hides the others.
``VEBA_VIEWER_SCREENSHOT=docs/viewer.png`` saves the page for the docs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "adapters"))

from _servers import BIN, free_port, running, server_env  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    argv = [str(BIN / "veba"), "serve", "viewer_demo", "--viewer", "--port", str(port)]
    with running(argv, port, cwd=HERE, env={"PYTHONPATH": str(HERE)}) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def send(base: str, name: str, *options: str) -> str:
    result = subprocess.run(
        [str(BIN / "veba"), "send", name, "--to", base + "/", *options],
        env=server_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.stdout.strip()


def test_events_sent_appear_live_with_their_handlers(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    page.goto(server + "/_veba/")
    expect = playwright_api.expect
    expect(page.locator("#status")).to_have_text("live")

    assert send(server, "EnteredMaintenanceModeEvent", "--set", "host.name=esx01") == (
        "204 No Content"
    )
    card = page.locator('.event[data-name="EnteredMaintenanceModeEvent"]')
    expect(card).to_have_count(1)
    expect(card.locator(".badge")).to_have_text("ok")
    expect(card.locator(".handlers li.ok")).to_contain_text("sync_state")
    expect(card.locator("table")).to_contain_text(
        "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
    )
    expect(card.locator("table")).to_contain_text("eventclass")  # extensions too
    expect(card.locator("pre.data")).to_contain_text('"Name": "esx01"')  # pretty-printed

    send(server, "VmPoweredOnEvent", "--set", "vm.name=web-01")
    powered = page.locator('.event[data-name="VmPoweredOnEvent"]')
    expect(powered.locator(".handlers li.ok")).to_contain_text("audit")
    send(server, "UserLoginSessionEvent")
    unmatched = page.locator('.event[data-name="UserLoginSessionEvent"]')
    expect(unmatched.locator(".badge")).to_have_text("no match")
    assert send(server, "HostConnectionLostEvent", "--producer", "router").startswith("500")
    failed = page.locator('.event[data-name="HostConnectionLostEvent"]')
    expect(failed.locator(".badge")).to_have_text("failed")
    expect(failed.locator(".handlers li.failed")).to_contain_text("page_oncall")
    expect(failed.locator(".handlers .err")).to_contain_text("RuntimeError: pager gateway")
    expect(failed.locator("table")).to_contain_text("com.vmware.event.router/event")

    send(server, "ExitMaintenanceModeEvent", "--set", "host.name=esx01")
    expect(page.locator(".event")).to_have_count(5)
    # Newest first.
    expect(page.locator(".event").first).to_have_attribute("data-name", "ExitMaintenanceModeEvent")

    shot = os.environ.get("VEBA_VIEWER_SCREENSHOT")
    if shot:
        page.screenshot(path=shot, full_page=False)

    page.fill("#filter", "*MaintenanceModeEvent")
    expect(page.locator(".event:not(.hidden)")).to_have_count(2)
    page.fill("#filter", "hostconnection")
    expect(page.locator(".event:not(.hidden)")).to_have_count(1)
    expect(page.locator("#counts")).to_contain_text("1 shown of 5")
    page.fill("#filter", "")
    expect(page.locator(".event:not(.hidden)")).to_have_count(5)

    # A page opened later gets the recent events from the ring.
    late = browser.new_page()  # type: ignore[attr-defined]
    late.goto(server + "/_veba/")
    expect(late.locator(".event")).to_have_count(5)
    late.close()
    page.close()


def test_serve_stops_promptly_with_a_page_open() -> None:
    """An open viewer page is a response that never ends; SIGTERM still stops the server."""
    import threading
    import time

    import httpx

    port = free_port()
    argv = [str(BIN / "veba"), "serve", "viewer_demo", "--viewer", "--port", str(port)]
    process = subprocess.Popen(
        argv, cwd=HERE, env=server_env({"PYTHONPATH": str(HERE)}),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/_veba/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "veba serve did not start"
            time.sleep(0.05)
        opened = threading.Event()

        def read() -> None:
            timeout = httpx.Timeout(5.0, read=None)
            try:
                with httpx.stream("GET", base + "/_veba/events", timeout=timeout) as response:
                    for _ in response.iter_lines():
                        opened.set()
            except httpx.HTTPError:
                return

        threading.Thread(target=read, daemon=True).start()
        assert opened.wait(10)
        started = time.monotonic()
        process.terminate()
        process.wait(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
