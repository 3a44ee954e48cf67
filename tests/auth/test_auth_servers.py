"""Sender checks on real servers: uvicorn (Knative ASGI), gunicorn (Knative WSGI), waitress
(OpenFaaS python3-http), each configured by ``VEBA_AUTH`` alone, with a real OIDC issuer on
loopback for the Knative case."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _issuer import AUDIENCE, Issuer, serving

from veba_sdk.auth import HMACAuth
from veba_sdk.testing import make_event, to_openfaas

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "adapters"))
from _servers import PYTHON, free_port, running  # noqa: E402

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"
SECRET = "hmac-shared-secret-81c0"
BAD_REQUESTS = 1000


def event_body() -> tuple[str, bytes]:
    """A VEBA structured CloudEvent (VmPoweredOnEvent) and its id."""
    body: bytes = to_openfaas(make_event("VmPoweredOnEvent"))["body"]
    import json

    return json.loads(body)["id"], body


def handled(log: Path) -> list[str]:
    return log.read_text().split("\n")[:-1] if log.exists() else []


def server_log(port: int) -> str:
    return (Path("/tmp") / f"veba-server-{port}.log").read_text(errors="replace")


STRUCTURED = {"Content-Type": "application/cloudevents+json"}


def assert_refused(
    answer: httpx.Response, status: int, reason: str, secret: str, challenge: str | None
) -> None:
    assert answer.status_code == status, answer.text
    assert answer.text == reason + "\n"
    assert secret not in answer.text
    assert all(secret not in value for value in answer.headers.values())
    if challenge is not None:
        assert answer.headers["www-authenticate"].startswith(challenge)


# -- Knative under uvicorn, OIDC -------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with serving() as running_issuer:
        yield running_issuer


@pytest.fixture(scope="module")
def oidc_server(
    issuer: Issuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, int]]:
    log = tmp_path_factory.mktemp("oidc") / "handled.log"
    port = free_port()
    argv = [PYTHON, "-m", "uvicorn", "_auth_apps:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--app-dir", str(HERE)]  # fmt: skip
    env = {
        "PYTHONPATH": str(HERE),
        "VEBA_TEST_LOG": str(log),
        "VEBA_AUTH": "oidc",
        "VEBA_OIDC_ISSUER": issuer.url,
        "VEBA_OIDC_AUDIENCE": AUDIENCE,
        "VEBA_OIDC_SUBJECTS": "system:serviceaccount:vmware-functions:*",
        "LOG_LEVEL": "DEBUG",
    }
    with running(argv, port, env=env) as url:
        yield url, log, port


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url + "/", content=body, headers={**STRUCTURED, **headers}, timeout=10)


def test_oidc_valid_rsa_and_ec_tokens_are_handled(
    issuer: Issuer, oidc_server: tuple[str, Path, int]
) -> None:
    url, log, _ = oidc_server
    for kid in ("rsa-1", "ec-1"):
        event_id, body = event_body()
        answer = post(url, body, {"Authorization": f"Bearer {issuer.token(kid=kid)}"})
        assert answer.status_code == 204, answer.text
        assert f"handled {event_id}" in handled(log)


def oidc_cases(issuer: Issuer) -> list[tuple[str, dict[str, str], int, str]]:
    now = int(time.time())
    token = issuer.token()
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    none = (
        base64.urlsafe_b64encode(b'{"alg":"none","kid":"rsa-1"}').rstrip(b"=").decode()
        + f".{payload}."
    )

    def bearer(t: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {t}"}

    return [
        ("missing", {}, 401, "no bearer token (Authorization header missing)"),
        ("expired", bearer(issuer.token(exp=now - 300, iat=now - 900, nbf=now - 900)), 401,
         "token has expired"),
        ("not yet valid", bearer(issuer.token(nbf=now + 600)), 401, "token is not valid yet"),
        ("wrong audience", bearer(issuer.token(aud=["other-fn"])), 401,
         "token is for another audience"),
        ("wrong issuer", bearer(issuer.token(iss="https://evil.example")), 401,
         "token is from another issuer"),
        ("unknown kid", bearer(issuer.token(kid="rsa-9", key=issuer.other_rsa)), 401,
         "token is signed by an unknown key"),
        ("tampered", bearer(tampered), 401, "token signature does not verify"),
        ("alg none", bearer(none), 401, "token algorithm 'none' is not allowed"),
        ("subject", bearer(issuer.token(sub="system:serviceaccount:default:intruder")), 403,
         "subject 'system:serviceaccount:default:intruder' is not allowed"),
    ]  # fmt: skip


def test_oidc_bad_tokens_are_refused(issuer: Issuer, oidc_server: tuple[str, Path, int]) -> None:
    url, log, port = oidc_server
    before = handled(log)
    for name, headers, status, reason in oidc_cases(issuer):
        event_id, body = event_body()
        answer = post(url, body, headers)
        secret = headers.get("Authorization", "Bearer <none sent>").split(" ", 1)[1]
        assert_refused(answer, status, reason, secret, "Bearer")
        assert f"handled {event_id}" not in handled(log), name
    assert handled(log) == before
    text = server_log(port)
    for _, headers, _, _ in oidc_cases(issuer):
        if headers:
            assert headers["Authorization"].split(" ", 1)[1] not in text
    assert "Traceback" not in text
    assert "veba_sdk.auth: refused POST /: 403 subject" in text  # the log is this server's


def test_oidc_thousand_bad_requests_leave_the_server_serving(
    issuer: Issuer, oidc_server: tuple[str, Path, int]
) -> None:
    url, log, port = oidc_server
    cases = oidc_cases(issuer)
    before = handled(log)
    _, body = event_body()
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=10, headers=STRUCTURED) as client:
        for n in range(BAD_REQUESTS):
            _, headers, status, _ = cases[n % len(cases)]
            answer = client.post("/", content=body, headers=headers)
            assert answer.status_code == status
            statuses[status] = statuses.get(status, 0) + 1
        elapsed = time.perf_counter() - started
        assert handled(log) == before  # nothing handled
        event_id, body = event_body()
        answer = client.post(
            "/", content=body, headers={"Authorization": f"Bearer {issuer.token()}"}
        )
        assert answer.status_code == 204
    assert handled(log) == [*before, f"handled {event_id}"]
    assert sum(statuses.values()) == BAD_REQUESTS
    print(f"{BAD_REQUESTS} refused requests in {elapsed:.2f}s ({statuses})")
    assert "Traceback" not in server_log(port)


# -- Knative under gunicorn, basic auth from a secret file -----------------------------------


@pytest.fixture(scope="module")
def basic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    folder = tmp_path_factory.mktemp("basic")
    (folder / "password").write_text(PASSWORD + "\n")
    log = folder / "handled.log"
    port = free_port()
    argv = [PYTHON, "-m", "gunicorn", "_auth_apps:wsgi_app", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--threads", "4", "--log-level", "warning",
            "--chdir", str(HERE)]  # fmt: skip
    env = {
        "PYTHONPATH": str(HERE),
        "VEBA_TEST_LOG": str(log),
        "VEBA_AUTH": "basic",
        "VEBA_BASIC_USERNAME": "veba",
        "VEBA_BASIC_PASSWORD_FILE": str(folder / "password"),
    }
    with running(argv, port, env=env) as url:
        yield url, log, port


def test_basic_auth_under_gunicorn(basic_server: tuple[str, Path, int]) -> None:
    url, log, port = basic_server
    event_id, body = event_body()
    assert post(url, body, {}).status_code == 401
    wrong = post(url, body, {"Authorization": "Basic " + base64.b64encode(b"veba:nope").decode()})
    assert_refused(wrong, 401, "wrong user name or password", "nope", 'Basic realm="veba"')
    assert handled(log) == []
    answer = httpx.post(url + "/", content=body, headers=STRUCTURED, auth=("veba", PASSWORD))
    assert answer.status_code == 204
    assert handled(log) == [f"handled {event_id}"]
    # Health probes stay open (the kubelet sends no credentials).
    assert httpx.get(url + "/health/readiness").status_code == 200
    for n in range(BAD_REQUESTS // 4):
        answer = httpx.post(url + "/", content=body, headers=STRUCTURED, auth=("veba", f"guess{n}"))
        assert answer.status_code == 401
    assert handled(log) == [f"handled {event_id}"]
    text = server_log(port)
    assert PASSWORD not in text
    assert "refused POST /: 401 wrong user name or password" in text


# -- OpenFaaS python3-http under waitress, HMAC ----------------------------------------------


@pytest.fixture(scope="module")
def hmac_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    log = tmp_path_factory.mktemp("hmac") / "handled.log"
    port = free_port()
    argv = [PYTHON, str(HERE / "_auth_apps.py"), str(port)]
    env = {"PYTHONPATH": str(HERE), "VEBA_TEST_LOG": str(log), "VEBA_AUTH": "hmac",
           "VEBA_HMAC_SECRET": SECRET}  # fmt: skip
    with running(argv, port, env=env, ready_path=None) as url:
        yield url, log, port


def test_hmac_under_openfaas(hmac_server: tuple[str, Path, int]) -> None:
    url, log, port = hmac_server
    signer = HMACAuth(SECRET)
    event_id, body = event_body()
    # VEBA's OpenFaaS processor posts with no content type.
    missing = httpx.post(url + "/", content=body)
    assert_refused(missing, 401, "no signature (X-Hub-Signature-256 header missing)", SECRET, None)
    wrong = httpx.post(url + "/", content=body, headers=HMACAuth("guess").sign(body))
    assert_refused(wrong, 401, "X-Hub-Signature-256 does not match the body", SECRET, None)
    other = httpx.post(url + "/", content=body + b" ", headers=signer.sign(body))
    assert other.status_code == 401
    assert handled(log) == []
    right = httpx.post(url + "/", content=body, headers=signer.sign(body))
    assert right.status_code == 204, right.text
    assert handled(log) == [f"handled {event_id}"]
    # An unsigned body that is no CloudEvent is refused before it is decoded: 401, not 400.
    assert httpx.post(url + "/", content=b"{not json").status_code == 401
    text = server_log(port)
    assert SECRET not in text
    assert signer.signature(body) not in text
    assert "refused POST /: 401 X-Hub-Signature-256 does not match the body" in text


# -- functions-framework (Flask, and --asgi) -------------------------------------------------


def gcf_server(port: int, env: dict[str, str], asgi: bool = False) -> Any:
    executable = str(Path(PYTHON).parent / "functions-framework")
    argv = [executable, "--source", str(HERE / "_gcf_main.py"), "--target", "function",
            "--signature-type", "cloudevent", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip
    if asgi:
        argv.append("--asgi")
    return running(argv, port, env={"WORKERS": "1", "THREADS": "2", **env}, ready_path=None)


@pytest.mark.parametrize("scheme", ["basic", "hmac"])
def test_gcf_checks_before_the_framework(scheme: str, tmp_path: Path) -> None:
    pytest.importorskip("functions_framework")
    log = tmp_path / "handled.log"
    port = free_port()
    env = {"VEBA_TEST_LOG": str(log), "VEBA_AUTH": scheme, "VEBA_BASIC_USERNAME": "veba",
           "VEBA_BASIC_PASSWORD": PASSWORD, "VEBA_HMAC_SECRET": SECRET}  # fmt: skip
    event_id, body = event_body()
    good: dict[str, str]
    if scheme == "basic":
        good = {"Authorization": "Basic " + base64.b64encode(f"veba:{PASSWORD}".encode()).decode()}
        bad = {"Authorization": "Basic " + base64.b64encode(b"veba:guess").decode()}
        reason = "wrong user name or password"
    else:
        good = HMACAuth(SECRET).sign(body)
        bad = HMACAuth("guess").sign(body)
        reason = "X-Hub-Signature-256 does not match the body"
    with gcf_server(port, env) as url:
        answer = post(url, body, bad)
        assert_refused(answer, 401, reason, PASSWORD if scheme == "basic" else SECRET, None)
        # Refused before functions-framework parses it: garbage gets 401, not its 500.
        assert post(url, b"{not json", bad).status_code == 401
        assert handled(log) == []
        for _ in range(BAD_REQUESTS // 10):
            assert post(url, body, bad).status_code == 401
        answer = post(url, body, good)
        assert answer.status_code == 200, answer.text
        assert handled(log) == [f"handled {event_id}"]
    text = server_log(port)
    assert PASSWORD not in text
    assert SECRET not in text
    assert f"refused POST /: 401 {reason}" in text


def test_gcf_asgi_refuses_what_it_cannot_check(tmp_path: Path) -> None:
    pytest.importorskip("functions_framework")
    log = tmp_path / "handled.log"
    port = free_port()
    env = {"VEBA_TEST_LOG": str(log), "VEBA_AUTH": "basic", "VEBA_BASIC_USERNAME": "veba",
           "VEBA_BASIC_PASSWORD": PASSWORD}  # fmt: skip
    _, body = event_body()
    with gcf_server(port, env, asgi=True) as url:
        answer = httpx.post(url + "/", content=body, headers=STRUCTURED, auth=("veba", PASSWORD))
        assert answer.status_code == 401
        assert "cannot be checked under --asgi" in answer.text
    assert handled(log) == []
