"""from_env, secret files, TLS settings, reprs, exports."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from vrops_consts import PASSWORD

import veba_sdk.vrops as vrops
from veba_sdk.vrops import AsyncVropsClient, VropsClient, VropsError, _base, settings_from_env


def test_exports_are_complete() -> None:
    public = {n for n in dir(vrops) if not n.startswith("_")}
    modules = {"annotations"}
    assert set(vrops.__all__) == public - modules - {
        n for n in public if type(getattr(vrops, n)).__name__ == "module"
    }
    for name in vrops.__all__:
        assert getattr(vrops, name) is not None


def test_testing_package_exports_fakevrops_lazily() -> None:
    import veba_sdk.testing as testing

    assert "FakeVrops" in testing.__all__
    assert testing.FakeVrops.__name__ == "FakeVrops"
    with pytest.raises(AttributeError):
        testing.DoesNotExist  # noqa: B018


def test_from_env_with_our_names(tmp_path: Path) -> None:
    env = {
        "VROPS_HOST": "vrops.lab.local",
        "VROPS_USERNAME": "admin",
        "VROPS_PASSWORD": PASSWORD,
        "VROPS_AUTH_SOURCE": "vsphere.local",
        "VROPS_VERIFY": "true",
        "VROPS_AUTH_SCHEME": "OpsToken",
    }
    client = VropsClient.from_env(environ=env, secrets_dir=tmp_path)
    with client:
        assert str(client.base_url).startswith("https://vrops.lab.local/suite-api")
        assert client.auth.scheme == "OpsToken"
        assert client.auth.auth_source == "vsphere.local"
        assert PASSWORD not in repr(client)


def test_from_env_with_veba_secret_names() -> None:
    env = {"vropsFqdn": "https://vrops:8443", "vropsUser": "admin", "vropsPassword": PASSWORD}
    settings = settings_from_env(env, "/nonexistent")
    assert settings == {"host": "https://vrops:8443", "username": "admin", "password": PASSWORD}


def test_secrets_from_files_in_a_directory(tmp_path: Path) -> None:
    (tmp_path / "vropsFqdn").write_text("vrops.lab\n")
    (tmp_path / "vropsUser").write_text("admin\n")
    (tmp_path / "vropsPassword").write_text(PASSWORD + "\n")
    (tmp_path / "VROPS_VERIFY").write_text("/etc/ssl/ca.pem")
    settings = settings_from_env({"VEBA_SECRETS_DIR": str(tmp_path)})
    assert settings["password"] == PASSWORD
    assert settings["verify"] == "/etc/ssl/ca.pem"
    # The environment wins over files; explicit directory wins over VEBA_SECRETS_DIR.
    settings = settings_from_env({"VROPS_USERNAME": "other"}, tmp_path)
    assert settings["username"] == "other"


def test_name_file_variables(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD)
    env = {"VROPS_HOST": "h", "VROPS_USERNAME": "u", "VROPS_PASSWORD_FILE": str(secret)}
    assert settings_from_env(env, tmp_path / "none")["password"] == PASSWORD


def test_missing_settings_name_what_is_missing_without_values(tmp_path: Path) -> None:
    with pytest.raises(VropsError) as info:
        settings_from_env({"VROPS_HOST": "h", "VROPS_PASSWORD": PASSWORD}, tmp_path)
    assert "VROPS_USERNAME" in str(info.value)
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("1", True), ("FALSE", False), ("no", False), ("/ca.pem", "/ca.pem")],
)
def test_verify_values(text: str, expected: object) -> None:
    assert _base.parse_verify(text) == expected


def test_disabling_tls_verification_warns_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_base, "_insecure_warned", False)
    caplog.set_level(logging.WARNING, logger="veba_sdk.vrops")
    for _ in range(3):
        VropsClient("vrops.lab", "admin", PASSWORD, verify=False).close()
    AsyncVropsClient("vrops.lab", "admin", PASSWORD, verify=False)
    warnings = [r for r in caplog.records if "verification is disabled" in r.getMessage()]
    assert len(warnings) == 1
    VropsClient("vrops.lab", "admin", PASSWORD).close()
    assert len([r for r in caplog.records if "verification" in r.getMessage()]) == 1
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("vrops.lab", "https://vrops.lab/suite-api"),
        ("https://vrops.lab:8443/", "https://vrops.lab:8443/suite-api"),
        ("http://127.0.0.1:8080/suite-api", "http://127.0.0.1:8080/suite-api"),
    ],
)
def test_base_url(host: str, url: str) -> None:
    assert str(_base.base_url(host)) == url


def test_error_text_is_one_line_and_scrubbed() -> None:
    import httpx

    redact = _base.Redactor(lambda: [PASSWORD])
    response = httpx.Response(
        422,
        json={
            "message": f"bad\ninput {PASSWORD}",
            "apiErrorCode": 7,
            "validationFailures": [{"failureMessage": f"echo {PASSWORD}"}],
        },
    )
    err = _base.error_from_response(response, redact)
    assert err.status == 422
    assert err.api_error_code == 7
    assert "\n" not in str(err)
    assert PASSWORD not in str(err)
    assert PASSWORD not in repr(err)
    assert err.validation_failures == ("echo ***",)
