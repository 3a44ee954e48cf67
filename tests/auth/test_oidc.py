"""OIDCAuth against a real issuer on loopback: discovery, JWKS, RSA and EC tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from _issuer import AUDIENCE, SUBJECT, Issuer, serving

from veba_sdk.auth import Denial, OIDCAuth, Request


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with serving() as running:
        yield running


def make_auth(issuer: Issuer, **options: object) -> OIDCAuth:
    options.setdefault("subjects", [SUBJECT])
    return OIDCAuth(issuer=issuer.url, audience=AUDIENCE, **options)  # type: ignore[arg-type]


def bearer(token: str) -> Request:
    return Request("POST", "/", {"authorization": f"Bearer {token}"})


def refused(auth: OIDCAuth, token: str, status: int = 401) -> Denial:
    denial = auth.check(bearer(token))
    assert denial is not None, "the token was accepted"
    assert denial.status == status
    assert token not in denial.reason
    assert all(token not in value for _, value in denial.headers)
    assert "\n" not in denial.reason
    if status == 401:
        assert dict(denial.headers)["WWW-Authenticate"].startswith('Bearer realm="veba"')
    return denial


def test_valid_rsa_and_ec_tokens_pass(issuer: Issuer) -> None:
    auth = make_auth(issuer)
    assert auth.check(bearer(issuer.token(kid="rsa-1"))) is None
    assert auth.check(bearer(issuer.token(kid="ec-1"))) is None
    assert auth.check(bearer(issuer.token(kid="rsa-1", alg="PS256"))) is None
    # Discovery once, keys once: the second and third tokens used the cache.
    assert (issuer.discovery_fetches, issuer.jwks_fetches) == (1, 1)


def test_a_single_string_audience_passes(issuer: Issuer) -> None:
    assert make_auth(issuer).check(bearer(issuer.token(aud=AUDIENCE))) is None


def test_expired_token(issuer: Issuer) -> None:
    now = int(time.time())
    denial = refused(make_auth(issuer), issuer.token(exp=now - 120, iat=now - 700, nbf=now - 700))
    assert denial.reason == "token has expired"
    assert 'error="invalid_token"' in dict(denial.headers)["WWW-Authenticate"]


def test_expired_within_leeway_passes(issuer: Issuer) -> None:
    now = int(time.time())
    token = issuer.token(exp=now - 10, iat=now - 700, nbf=now - 700)
    assert make_auth(issuer, leeway=30).check(bearer(token)) is None
    assert refused(make_auth(issuer, leeway=0), token).reason == "token has expired"


def test_not_yet_valid_token(issuer: Issuer) -> None:
    now = int(time.time())
    denial = refused(make_auth(issuer), issuer.token(nbf=now + 300, iat=now))
    assert denial.reason == "token is not valid yet"


def test_wrong_audience(issuer: Issuer) -> None:
    denial = refused(make_auth(issuer), issuer.token(aud=["another-function"]))
    assert denial.reason == "token is for another audience"


def test_wrong_issuer(issuer: Issuer) -> None:
    denial = refused(make_auth(issuer), issuer.token(iss="https://attacker.example"))
    assert denial.reason == "token is from another issuer"


def test_missing_claims(issuer: Issuer) -> None:
    auth = make_auth(issuer)
    assert refused(auth, issuer.token(exp=None)).reason == "token has no exp claim"
    assert refused(auth, issuer.token(sub=None)).reason == "token has no sub claim"


def test_unknown_key_id_refreshes_then_rejects(issuer: Issuer) -> None:
    auth = make_auth(issuer, min_refresh=0.5)
    assert auth.check(bearer(issuer.token())) is None
    assert issuer.jwks_fetches == 1
    time.sleep(0.6)
    forged = issuer.token(kid="rsa-2", key=issuer.other_rsa)
    assert refused(auth, forged).reason == "token is signed by an unknown key"
    assert issuer.jwks_fetches == 2  # fetched again for the unknown kid ...
    for _ in range(50):
        refused(auth, forged)
    assert issuer.jwks_fetches == 2  # ... but not again within min_refresh


def test_rotated_key_is_picked_up(issuer: Issuer) -> None:
    auth = make_auth(issuer, min_refresh=0)
    assert auth.check(bearer(issuer.token())) is None
    issuer.published["rsa-2"] = issuer.other_rsa
    assert auth.check(bearer(issuer.token(kid="rsa-2"))) is None
    assert issuer.jwks_fetches == 2


def test_tampered_signature(issuer: Issuer) -> None:
    token = issuer.token()
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "system:serviceaccount:default:intruder"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{forged_payload}.{signature}"
    assert refused(make_auth(issuer), forged).reason == "token signature does not verify"
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert refused(make_auth(issuer), f"{head}.{payload}.{flipped}").reason == (
        "token signature does not verify"
    )


def test_alg_none(issuer: Issuer) -> None:
    # PyJWT's "none" algorithm reads the key "" as None (what jwt.encode's annotation allows).
    token = jwt.encode(issuer.claims(), "", algorithm="none", headers={"kid": "rsa-1"})
    assert refused(make_auth(issuer), token).reason == "token algorithm 'none' is not allowed"
    assert issuer.jwks_fetches == 0  # refused before any key is needed


def test_hmac_with_the_public_key_as_secret(issuer: Issuer) -> None:
    """The classic algorithm confusion: HS256 'signed' with the published key as the secret."""
    from cryptography.hazmat.primitives import serialization

    public = issuer.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
        + "."
        + b64(json.dumps(issuer.claims()).encode())
    )
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(signature)}"
    assert refused(make_auth(issuer), token).reason == "token algorithm 'HS256' is not allowed"


def test_algorithm_that_does_not_fit_the_key(issuer: Issuer) -> None:
    token = issuer.token(kid="ec-1", alg="RS256", key=issuer.rsa)
    assert (
        refused(make_auth(issuer), token).reason == "token algorithm RS256 does not fit its EC key"
    )


def test_subject_outside_the_allow_list(issuer: Issuer) -> None:
    token = issuer.token(sub="system:serviceaccount:default:someone")
    denial = refused(make_auth(issuer), token, status=403)
    assert denial.reason == "subject 'system:serviceaccount:default:someone' is not allowed"


def test_subject_wildcard_suffix(issuer: Issuer) -> None:
    auth = make_auth(issuer, subjects=["system:serviceaccount:vmware-functions:*"])
    assert auth.check(bearer(issuer.token())) is None
    refused(auth, issuer.token(sub="system:serviceaccount:vmware-functionsX:a"), status=403)
    assert make_auth(issuer, subjects=None).check(bearer(issuer.token(sub="anyone"))) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no bearer token (Authorization header missing)"),
        ({"authorization": "Basic dTpw"}, "Authorization is not a Bearer token"),
        ({"authorization": "Bearer "}, "Authorization is not a Bearer token"),
        ({"authorization": "Bearer not-a-jwt"}, "token is not a JWT"),
        ({"authorization": "Bearer a.b.c"}, "token is not a JWT"),
    ],
)
def test_missing_or_malformed(issuer: Issuer, headers: dict[str, str], reason: str) -> None:
    denial = make_auth(issuer).check(Request("POST", "/", headers))
    assert denial is not None
    assert (denial.status, denial.reason) == (401, reason)


def test_issuer_unreachable_is_503_and_rate_limited(issuer: Issuer) -> None:
    issuer.down = True
    auth = make_auth(issuer)
    for _ in range(20):
        denial = refused(auth, issuer.token(), status=503)
    assert denial.reason == "cannot fetch the token issuer's signing keys"
    assert issuer.discovery_fetches == 0
    assert len(issuer.seen_authorization) == 1  # one attempt, not twenty


def test_discovery_naming_another_issuer_is_refused(issuer: Issuer) -> None:
    auth = OIDCAuth(issuer=issuer.url + "/", audience=AUDIENCE)
    refused(auth, issuer.token(iss=issuer.url + "/"), status=503)


def test_jwks_url_and_token_file(issuer: Issuer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("sa-token-for-discovery\n")
    auth = make_auth(issuer, jwks_url=issuer.url + "/openid/v1/jwks", token_file=str(token_file))
    assert auth.check(bearer(issuer.token())) is None
    assert issuer.discovery_fetches == 0
    assert issuer.seen_authorization == ["Bearer sa-token-for-discovery"]


def test_check_async_fetches_off_the_loop(issuer: Issuer) -> None:
    auth = make_auth(issuer)
    token = issuer.token()

    async def main() -> list[Denial | None]:
        return list(await asyncio.gather(*(auth.check_async(bearer(token)) for _ in range(5))))

    assert asyncio.run(main()) == [None] * 5
    assert issuer.jwks_fetches == 1  # five concurrent first requests, one fetch


def test_no_token_in_logs(issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth = make_auth(issuer)
    tokens = [
        issuer.token(),
        issuer.token(aud=["x"]),
        issuer.token(kid="zz", key=issuer.other_rsa),
        issuer.token(sub="intruder"),
    ]
    for token in tokens:
        auth.check(bearer(token))
    for token in tokens:
        for part in token.split("."):
            assert part not in caplog.text
    assert "fetched 2 OIDC signing key(s)" in caplog.text


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        OIDCAuth(issuer="https://i", audience="a", algorithms=["HS256"])
    with pytest.raises(ValueError, match="issuer and an audience"):
        OIDCAuth(issuer="", audience="a")
    assert "subjects=('s',)" in repr(OIDCAuth(issuer="https://i", audience="a", subjects=["s"]))


def test_a_verified_token_is_remembered_until_it_expires(issuer: Issuer) -> None:
    auth = make_auth(issuer, leeway=0)
    token = issuer.token(exp=int(time.time()) + 2)
    assert auth.check(bearer(token)) is None
    issuer.down = True  # the remembered token needs no keys ...
    assert auth.check(bearer(token)) is None
    time.sleep(max(0.0, int(time.time()) + 2 - time.time()) + 0.1)
    issuer.down = False
    assert refused(auth, token).reason == "token has expired"  # ... and its exp still holds


def test_a_refused_token_is_never_remembered(issuer: Issuer) -> None:
    auth = make_auth(issuer)
    token = issuer.token(sub="system:serviceaccount:default:intruder")
    for _ in range(3):
        refused(auth, token, status=403)


def test_token_file_is_never_sent_over_plain_http_elsewhere() -> None:
    from veba_sdk.auth._oidc import _private_channel

    assert _private_channel("https://10.0.0.1:6443/openid/v1/jwks")
    assert _private_channel("http://127.0.0.1:8080/openid/v1/jwks")
    assert not _private_channel("http://10.0.0.1:6443/openid/v1/jwks")
