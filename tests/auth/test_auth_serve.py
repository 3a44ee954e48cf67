"""veba serve reads VEBA_AUTH like a deployed function: each --adapter refuses what the
configured check refuses, and serves the rest."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import httpx
import pytest

from veba_sdk.testing import make_event, to_openfaas

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "adapters"))
from _servers import PYTHON, free_port, running  # noqa: E402

pytestmark = pytest.mark.slow

VEBA = [PYTHON, "-c", "import sys; from veba_sdk.cli import main; sys.exit(main())"]
PASSWORD = "serve-password-5e1"


@pytest.mark.parametrize("adapter", ["knative", "openfaas", "gcf"])
def test_veba_serve_checks_basic_auth(adapter: str, tmp_path: Path) -> None:
    if adapter == "gcf":
        pytest.importorskip("functions_framework")
    log = tmp_path / "handled.log"
    port = free_port()
    argv = [*VEBA, "serve", "_auth_apps:router", "--adapter", adapter, "--port", str(port)]
    env = {"PYTHONPATH": str(HERE), "VEBA_TEST_LOG": str(log), "VEBA_AUTH": "basic",
           "VEBA_BASIC_USERNAME": "veba", "VEBA_BASIC_PASSWORD": PASSWORD}  # fmt: skip
    if adapter == "gcf":  # the flag instead of the variable
        env["VEBA_AUTH"] = "none"
        argv += ["--auth", "basic"]
    body = to_openfaas(make_event("VmPoweredOnEvent"))["body"]
    headers = {"Content-Type": "application/cloudevents+json"}
    with running(argv, port, env=env, cwd=HERE, ready_path=None) as url:
        wrong = httpx.post(url, content=body, headers=headers, auth=("veba", "guess"))
        assert wrong.status_code == 401, wrong.text
        assert wrong.text == "wrong user name or password\n"
        assert wrong.headers["www-authenticate"].startswith('Basic realm="veba"')
        assert not log.exists()
        right = httpx.post(url, content=body, headers=headers, auth=("veba", PASSWORD))
        assert right.status_code in (200, 204), right.text
        assert len(log.read_text().splitlines()) == 1
    text = (Path("/tmp") / f"veba-server-{port}.log").read_text()
    assert PASSWORD not in text
    assert base64.b64encode(f"veba:{PASSWORD}".encode()).decode() not in text
    assert "refused POST /: 401 wrong user name or password" in text
    assert (
        "veba: callers must authenticate (basic: BasicAuth(username='veba', password='***'))"
        in text
    )


def test_veba_serve_fails_fast_on_a_bad_setting(tmp_path: Path) -> None:
    import subprocess

    argv = [*VEBA, "serve", "_auth_apps:router", "--port", str(free_port())]
    env = {"PYTHONPATH": str(HERE), "VEBA_TEST_LOG": str(tmp_path / "l"), "VEBA_AUTH": "basic",
           "VEBA_BASIC_USERNAME": "veba", "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "VEBA_BASIC_PASSWORD (or VEBA_BASIC_PASSWORD_FILE) must be set" in done.stderr
    assert "Traceback" not in done.stderr
    # --auth, before the module is even loaded: a usage error (exit 2) naming the variable.
    argv = [*VEBA, "serve", "no_such_module", "--auth", "hmac", "--port", str(free_port())]
    done = subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "VEBA_HMAC_SECRET (or VEBA_HMAC_SECRET_FILE) must be set" in done.stderr
    assert "Traceback" not in done.stderr


def test_veba_send_signs_with_the_functions_settings(tmp_path: Path) -> None:
    """VEBA_AUTH=hmac on both sides: veba send signs, veba serve (openfaas) checks."""
    import subprocess

    secret_file = tmp_path / "secret"
    secret_file.write_text("send-and-serve-secret\n")
    log = tmp_path / "handled.log"
    port = free_port()
    env = {"PYTHONPATH": str(HERE), "VEBA_TEST_LOG": str(log), "VEBA_AUTH": "hmac",
           "VEBA_HMAC_SECRET_FILE": str(secret_file)}  # fmt: skip
    argv = [*VEBA, "serve", "_auth_apps:router", "--adapter", "openfaas", "--port", str(port)]
    send = [*VEBA, "send", "VmPoweredOnEvent", "--platform", "openfaas",
            "--to", f"http://127.0.0.1:{port}/"]  # fmt: skip
    with running(argv, port, env=env, cwd=HERE, ready_path=None):
        from _servers import server_env

        signed = subprocess.run(send, env=server_env(env), capture_output=True, text=True)
        assert signed.returncode == 0, signed.stderr
        assert "VEBA_AUTH=hmac: each request carries its signature" in signed.stderr
        assert len(log.read_text().splitlines()) == 1
        unsigned_env = server_env({**env, "VEBA_AUTH": "none"})
        unsigned = subprocess.run(send, env=unsigned_env, capture_output=True, text=True)
        assert "401" in unsigned.stdout + unsigned.stderr
        assert len(log.read_text().splitlines()) == 1
    assert "send-and-serve-secret" not in signed.stderr + signed.stdout
