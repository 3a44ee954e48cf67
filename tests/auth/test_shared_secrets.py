"""BasicAuth, HMACAuth and configuration from the environment."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from veba_sdk import ConfigError
from veba_sdk.auth import Authenticator, BasicAuth, HMACAuth, OIDCAuth, Request, from_env
from veba_sdk.auth._env import resolve

PASSWORD = "s3cret-Pa55"
SECRET = "hmac-shared-secret-9f2c"
BODY = b'{"specversion":"1.0","id":"1","source":"s","type":"t"}'


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def test_basic_right_credentials_pass() -> None:
    auth = BasicAuth("veba", PASSWORD)
    assert auth.check(Request("POST", "/", basic("veba", PASSWORD))) is None
    assert (
        auth.check(
            Request(
                "POST",
                "/",
                {
                    "authorization": basic("veba", PASSWORD)["authorization"].replace(
                        "Basic", "basic"
                    )
                },
            )
        )
        is None
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no basic credentials (Authorization header missing)"),
        (basic("veba", "wrong"), "wrong user name or password"),
        (basic("other", PASSWORD), "wrong user name or password"),
        (basic("veba", PASSWORD + "x"), "wrong user name or password"),
        ({"authorization": "Basic " + base64.b64encode(b"vebanocolon").decode()},
         "wrong user name or password"),
        ({"authorization": "Basic %%%"}, "Basic credentials are not base64"),
        ({"authorization": "Bearer abc"}, "Authorization is not Basic"),
    ],
)  # fmt: skip
def test_basic_wrong_credentials(headers: dict[str, str], reason: str) -> None:
    denial = BasicAuth("veba", PASSWORD, realm="fn").check(Request("POST", "/", headers))
    assert denial is not None
    assert (denial.status, denial.reason) == (401, reason)
    assert dict(denial.headers)["WWW-Authenticate"] == 'Basic realm="fn", charset="UTF-8"'
    assert PASSWORD not in repr(denial)


def test_basic_never_shows_the_password() -> None:
    auth = BasicAuth("veba", PASSWORD)
    assert PASSWORD not in repr(auth)
    assert PASSWORD not in str(vars(auth).get("realm"))
    with pytest.raises(ValueError, match="non-empty"):
        BasicAuth("veba", "")
    with pytest.raises(ValueError, match="':'"):
        BasicAuth("a:b", "c")


def test_hmac_right_signature_passes() -> None:
    auth = HMACAuth(SECRET)
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert auth.signature(BODY) == "sha256=" + digest
    assert auth.sign(BODY) == {"X-Hub-Signature-256": "sha256=" + digest}
    for value in ("sha256=" + digest, digest, digest.upper(), "SHA256=" + digest):
        headers = {"x-hub-signature-256": value}
        assert auth.check(Request("POST", "/", headers, BODY)) is None, value


def test_hmac_other_header_and_algorithm() -> None:
    auth = HMACAuth(SECRET.encode(), header="X-Signature", algorithm="sha1")
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert auth.check(Request("POST", "/", {"x-signature": "sha1=" + digest}, BODY)) is None
    denial = auth.check(Request("POST", "/", {"x-signature": "sha256=" + digest}, BODY))
    assert denial is not None
    assert denial.reason == "X-Signature is not a sha1 signature"


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ({}, BODY, "no signature (X-Hub-Signature-256 header missing)"),
        ({"x-hub-signature-256": "sha256=" + "0" * 64}, BODY,
         "X-Hub-Signature-256 does not match the body"),
        ({"x-hub-signature-256": HMACAuth("other").signature(BODY)}, BODY,
         "X-Hub-Signature-256 does not match the body"),
        ({"x-hub-signature-256": HMACAuth(SECRET).signature(BODY)}, BODY + b" ",
         "X-Hub-Signature-256 does not match the body"),
        ({"x-hub-signature-256": "sha256=\u00e9"}, BODY,
         "X-Hub-Signature-256 does not match the body"),
    ],
)  # fmt: skip
def test_hmac_wrong_or_missing(headers: dict[str, str], body: bytes, reason: str) -> None:
    denial = HMACAuth(SECRET).check(Request("POST", "/", headers, body))
    assert denial is not None
    assert (denial.status, denial.reason) == (401, reason)
    assert SECRET not in repr(denial)


def test_hmac_options_and_repr() -> None:
    assert SECRET not in repr(HMACAuth(SECRET))
    with pytest.raises(ValueError, match="sha256"):
        HMACAuth(SECRET, algorithm="md5")
    with pytest.raises(ValueError, match="non-empty"):
        HMACAuth("")


def test_from_env_off_by_default() -> None:
    assert from_env({}) is None
    assert from_env({"VEBA_AUTH": "none"}) is None
    assert from_env({"VEBA_AUTH": ""}) is None


def test_from_env_basic_and_hmac_from_files(tmp_path: Path) -> None:
    (tmp_path / "password").write_text(PASSWORD + "\n")
    (tmp_path / "secret").write_text(SECRET + "\n")
    auth = from_env(
        {"VEBA_AUTH": "basic", "VEBA_BASIC_USERNAME": "veba",
         "VEBA_BASIC_PASSWORD_FILE": str(tmp_path / "password")}
    )  # fmt: skip
    assert isinstance(auth, BasicAuth)
    assert auth.check(Request("POST", "/", basic("veba", PASSWORD))) is None
    auth = from_env(
        {"VEBA_AUTH": "HMAC", "VEBA_HMAC_SECRET_FILE": str(tmp_path / "secret"),
         "VEBA_HMAC_HEADER": "X-Sig", "VEBA_HMAC_ALGORITHM": "sha512"}
    )  # fmt: skip
    assert isinstance(auth, HMACAuth)
    assert (auth.header, auth.algorithm) == ("X-Sig", "sha512")
    assert (
        auth.check(
            Request(
                "POST", "/", {"x-sig": HMACAuth(SECRET, algorithm="sha512").signature(b"x")}, b"x"
            )
        )
        is None
    )


def test_from_env_oidc() -> None:
    auth = from_env(
        {"VEBA_AUTH": "oidc", "VEBA_OIDC_ISSUER": "https://kubernetes.default.svc",
         "VEBA_OIDC_AUDIENCE": "fn", "VEBA_OIDC_SUBJECTS": "a, b*,", "VEBA_OIDC_LEEWAY": "5"}
    )  # fmt: skip
    assert isinstance(auth, OIDCAuth)
    assert (auth.issuer, auth.audience, auth.subjects, auth.leeway) == (
        "https://kubernetes.default.svc",
        "fn",
        ("a", "b*"),
        5.0,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VEBA_AUTH": "kerberos"}, "VEBA_AUTH must be one of oidc, basic, hmac or none"),
        ({"VEBA_AUTH": "basic", "VEBA_BASIC_USERNAME": "u"}, "VEBA_BASIC_PASSWORD"),
        ({"VEBA_AUTH": "basic", "VEBA_BASIC_USERNAME": "u", "VEBA_BASIC_PASSWORD": "p",
          "VEBA_BASIC_PASSWORD_FILE": "/x"}, "not both"),
        ({"VEBA_AUTH": "hmac", "VEBA_HMAC_SECRET_FILE": "/nonexistent/secret"}, "cannot be read"),
        ({"VEBA_AUTH": "hmac", "VEBA_HMAC_SECRET": "zq-secret", "VEBA_HMAC_ALGORITHM": "md5"},
         "VEBA_HMAC_ALGORITHM"),
        ({"VEBA_AUTH": "oidc", "VEBA_OIDC_ISSUER": "https://i"}, "VEBA_OIDC_AUDIENCE"),
        ({"VEBA_AUTH": "oidc", "VEBA_OIDC_ISSUER": "https://i", "VEBA_OIDC_AUDIENCE": "a",
          "VEBA_OIDC_LEEWAY": "soon"}, "VEBA_OIDC_LEEWAY"),
    ],
)  # fmt: skip
def test_from_env_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        from_env(env)
    assert "\n" not in str(caught.value)
    for key, value in env.items():
        if key.endswith(("PASSWORD", "SECRET")):
            assert value not in str(caught.value)


def test_resolve_takes_an_authenticator_or_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = BasicAuth("u", "p")
    assert resolve(auth) is auth
    assert isinstance(auth, Authenticator)
    monkeypatch.delenv("VEBA_AUTH", raising=False)
    assert resolve(None) is None
    monkeypatch.setenv("VEBA_AUTH", "hmac")
    monkeypatch.setenv("VEBA_HMAC_SECRET", SECRET)
    assert isinstance(resolve(None), HMACAuth)
    with pytest.raises(TypeError, match="auth must be"):
        resolve("basic")  # type: ignore[arg-type]


def test_basic_sign_makes_the_header_check_accepts() -> None:
    auth = BasicAuth("veba", PASSWORD)
    headers = {k.lower(): v for k, v in auth.sign().items()}
    assert auth.check(Request("POST", "/", headers)) is None
