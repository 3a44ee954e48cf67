"""Knative's sender identity: a Bearer JWT from the Kubernetes service account issuer.

With Knative Eventing's ``authentication-oidc`` feature (1.13+), a Trigger's dispatcher sends
each event with ``Authorization: Bearer <JWT>``: ``iss`` is the cluster's service account
issuer, ``aud`` the audience of the Trigger's subscriber (``subscriber.audience``), ``sub``
``system:serviceaccount:<namespace>:<name>`` of the Trigger's OIDC service account.

:class:`OIDCAuth` checks the signature with the issuer's keys (OIDC discovery, then the JWKS;
cached, fetched again for a key id it does not know, at most every ``min_refresh`` seconds),
``iss``, ``aud``, ``exp`` and ``nbf`` (with ``leeway``), and the subject against an allow-list
whose entries may end in ``*`` (as Knative's EventPolicy allows). Missing or bad token: 401
with ``WWW-Authenticate: Bearer``; subject not allowed: 403; the issuer's keys cannot be
fetched: 503 (the broker retries). PyJWT (with ``cryptography``) is the extra
``veba-sdk[oidc]``, imported when an :class:`OIDCAuth` is made.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from .._extras import needs_extra
from ._base import Denial, Request

__all__ = ["DEFAULT_ALGORITHMS", "OIDCAuth"]

logger = logging.getLogger("veba_sdk.auth")

#: Asymmetric algorithms only: never ``none``, never an HMAC one (whose "key" would be public).
DEFAULT_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
)
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
_MAX_DOCUMENT = 1 << 20
_ACCEPTED_MAX = 1024


def _private_channel(url: str) -> bool:
    """Whether ``url`` is HTTPS, or plain HTTP to this host (where a token may go)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "https" or parts.hostname in ("127.0.0.1", "::1", "localhost")


def _header(token: str) -> dict[str, Any] | None:
    """The JOSE header of a compact JWS (unverified), or ``None`` if it is none."""
    head, dot, _ = token.partition(".")
    if not dot or len(head) > 4096:
        return None
    try:
        raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
        header = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return header if isinstance(header, dict) else None


class _FetchError(Exception):
    """The issuer's discovery document or keys could not be fetched (the reason is logged)."""


class _NeedKeys:
    """The check cannot finish without fetching keys."""


_NEED_KEYS = _NeedKeys()


class OIDCAuth:
    """Accept only requests with a valid Bearer JWT from ``issuer`` for ``audience``.

    Args:
        issuer: the token issuer (``iss``), e.g. ``https://kubernetes.default.svc.cluster.local``;
            its keys are found through ``<issuer>/.well-known/openid-configuration``.
        audience: the audience the tokens must carry (the Trigger's ``subscriber.audience``).
        subjects: the ``sub`` values allowed, each exact or ending in ``*`` (a prefix);
            ``None`` allows any subject the issuer signed a token for this audience.
        jwks_url: fetch keys from here and skip discovery.
        algorithms: the signature algorithms accepted (asymmetric only).
        leeway: seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        ca_file: CA bundle to verify the issuer's TLS certificate (in a pod:
            ``/var/run/secrets/kubernetes.io/serviceaccount/ca.crt``).
        token_file: a token sent as ``Authorization: Bearer`` when fetching the discovery
            document and keys (the API server serves them to service accounts), over HTTPS
            (or to this host) only; read at each fetch, since projected tokens rotate.
        cache_seconds: how long fetched keys are used before they are fetched again.
        min_refresh: at least this many seconds between fetches caused by unknown key ids,
            so forged tokens cannot make the function hammer the issuer.
        timeout: seconds to wait for the issuer.
    """

    needs_body = False

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        subjects: Iterable[str] | None = None,
        jwks_url: str | None = None,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway: float = 30.0,
        ca_file: str | None = None,
        token_file: str | None = None,
        cache_seconds: float = 3600.0,
        min_refresh: float = 10.0,
        timeout: float = 5.0,
    ) -> None:
        with needs_extra("oidc", "veba_sdk.auth.OIDCAuth"):
            import jwt
            import jwt.algorithms

        if not jwt.algorithms.has_crypto:
            raise ImportError(
                "veba_sdk.auth.OIDCAuth needs cryptography: pip install 'veba-sdk[oidc]'"
            )
        if not issuer or not audience:
            raise ValueError("OIDCAuth needs an issuer and an audience")
        bad = [a for a in algorithms if a[:2] not in _KEY_TYPE]
        if bad or not algorithms:
            raise ValueError(f"OIDCAuth takes asymmetric algorithms only, not {bad or 'none'}")
        self._jwt = jwt
        self.issuer = issuer
        self.audience = audience
        self.subjects: tuple[str, ...] | None = None if subjects is None else tuple(subjects)
        if self.subjects is not None:
            self._exact = frozenset(s for s in self.subjects if not s.endswith("*"))
            self._prefixes = tuple(s[:-1] for s in self.subjects if s.endswith("*"))
        self.jwks_url = jwks_url
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self.ca_file = ca_file
        self.token_file = token_file
        self.cache_seconds = cache_seconds
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.fetches = 0  # how many times the keys were fetched (for metrics and tests)
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._failed_at = float("-inf")
        # Tokens verified and allowed, to their exp: only a token that passed every check is
        # here, so a forged one never skips a check.
        self._accepted: dict[str, float] = {}
        self._lock = threading.Lock()
        self._challenge = ("WWW-Authenticate", 'Bearer realm="veba"')

    # -- the check ---------------------------------------------------------------------------

    def check(self, request: Request) -> Denial | None:
        """``None`` when the request carries a valid token with an allowed subject.

        May block on the network while the issuer's keys are fetched (see :meth:`check_async`).
        """
        result = self._check(request, fetch=True)
        assert not isinstance(result, _NeedKeys)
        return result

    async def check_async(self, request: Request) -> Denial | None:
        """:meth:`check`, fetching the keys (when it must) in a worker thread."""
        result = self._check(request, fetch=False)
        if isinstance(result, _NeedKeys):
            import asyncio

            return await asyncio.to_thread(self.check, request)
        return result

    def _check(self, request: Request, *, fetch: bool) -> Denial | _NeedKeys | None:
        header = request.headers.get("authorization")
        if header is None:
            return Denial(401, "no bearer token (Authorization header missing)", (self._challenge,))
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Denial(401, "Authorization is not a Bearer token", (self._challenge,))
        accepted_until = self._accepted.get(token)
        if accepted_until is not None and time.time() < accepted_until:
            return None  # verified before: the dispatcher reuses a token until it nears exp
        jwt = self._jwt
        unverified = _header(token)
        if unverified is None:
            return self._invalid("token is not a JWT")
        alg = unverified.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            shown = repr(alg)[:24]
            return self._invalid(f"token algorithm {shown} is not allowed")
        kid = unverified.get("kid")
        if kid is not None and not isinstance(kid, str):
            return self._invalid("token key id is not a string")
        try:
            key = self._key(kid, fetch=fetch)
        except _FetchError:
            return Denial(
                503, "cannot fetch the token issuer's signing keys", (("Retry-After", "10"),)
            )
        if isinstance(key, _NeedKeys):
            return key
        if key is None:
            return self._invalid("token is signed by an unknown key")
        if key.key_type != _KEY_TYPE[alg[:2]]:
            return self._invalid(f"token algorithm {alg} does not fit its {key.key_type} key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            return self._invalid("token has expired")
        except jwt.ImmatureSignatureError:
            return self._invalid("token is not valid yet")
        except jwt.InvalidAudienceError:
            return self._invalid("token is for another audience")
        except jwt.InvalidIssuerError:
            return self._invalid("token is from another issuer")
        except jwt.InvalidSignatureError:
            return self._invalid("token signature does not verify")
        except jwt.MissingRequiredClaimError as exc:
            return self._invalid(f"token has no {exc.claim} claim")
        except jwt.InvalidTokenError:
            return self._invalid("token is invalid")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not self._allowed(subject):
            shown = repr(subject)[:200]
            return Denial(
                403,
                f"subject {shown} is not allowed",
                (("WWW-Authenticate", 'Bearer realm="veba", error="insufficient_scope"'),),
            )
        if len(self._accepted) >= _ACCEPTED_MAX:
            self._accepted.clear()
        self._accepted[token] = float(claims["exp"])
        return None

    def _allowed(self, subject: str) -> bool:
        if self.subjects is None:
            return True
        return subject in self._exact or subject.startswith(self._prefixes)

    def _invalid(self, reason: str) -> Denial:
        challenge = f'Bearer realm="veba", error="invalid_token", error_description="{reason}"'
        return Denial(401, reason, (("WWW-Authenticate", challenge.replace("'", "")),))

    # -- keys --------------------------------------------------------------------------------

    def _key(self, kid: str | None, *, fetch: bool) -> Any:
        """The key for ``kid`` (``None`` if the issuer has none), fetching when due."""
        decided = self._decide(kid)
        if not isinstance(decided, _NeedKeys) or not fetch:
            return decided
        with self._lock:
            decided = self._decide(kid)  # another thread may have fetched meanwhile
            if not isinstance(decided, _NeedKeys):
                return decided
            self._refresh()
        return self._lookup(kid)

    def _decide(self, kid: str | None) -> Any:
        """The key, ``None`` (unknown, and fetched or tried too recently), or
        :data:`_NEED_KEYS`."""
        now = time.monotonic()
        fetched_at = self._fetched_at
        if fetched_at is not None and now - fetched_at < self.cache_seconds:
            key = self._lookup(kid)
            if key is not None or now - fetched_at < self.min_refresh:
                return key
        if now - self._failed_at < self.min_refresh:
            if fetched_at is None:
                raise _FetchError("the last fetch failed moments ago")
            return self._lookup(kid)  # keep serving with the keys we have
        return _NEED_KEYS

    def _lookup(self, kid: str | None) -> Any:
        if kid is None:
            keys = list(self._keys.values())
            return keys[0] if len(keys) == 1 else None
        return self._keys.get(kid)

    def _refresh(self) -> None:
        url = self.jwks_url
        try:
            if url is None:
                discovery_url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                document = self._get_json(discovery_url)
                if document.get("issuer") != self.issuer:
                    raise _FetchError(
                        f"{discovery_url} names issuer {str(document.get('issuer'))[:200]!r},"
                        f" not {self.issuer!r}"
                    )
                url = document.get("jwks_uri")
                if not isinstance(url, str) or not url:
                    raise _FetchError(f"{discovery_url} has no jwks_uri")
            jwks = self._get_json(url)
            keys = self._parse_jwks(jwks)
        except _FetchError as exc:
            logger.error("cannot fetch the OIDC signing keys: %s", exc)
            self._failed_at = time.monotonic()
            if self._keys:
                return  # keep serving with the keys we have rather than refusing every event
            raise
        self._keys = keys
        self._fetched_at = time.monotonic()
        self.fetches += 1
        logger.info("fetched %d OIDC signing key(s) from %s", len(keys), url)

    def _parse_jwks(self, jwks: dict[str, Any]) -> dict[str, Any]:
        entries = jwks.get("keys")
        if not isinstance(entries, list):
            raise _FetchError("the JWKS has no keys list")
        keys: dict[str, Any] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = self._jwt.PyJWK(entry)
            except (self._jwt.PyJWKError, self._jwt.InvalidKeyError, ValueError, TypeError):
                continue  # a key type this library cannot use
            keys[str(entry.get("kid", ""))] = key
        return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        import ssl  # here: an adapter importing veba_sdk.auth pays nothing for them
        import urllib.error
        import urllib.request

        headers = {"Accept": "application/json"}
        if self.token_file and _private_channel(url):  # never a credential over plain HTTP
            try:
                with open(self.token_file, encoding="utf-8") as handle:
                    headers["Authorization"] = "Bearer " + handle.read().strip()
            except OSError as exc:
                raise _FetchError(f"cannot read token_file ({exc.strerror})") from None
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as answer:
                body = answer.read(_MAX_DOCUMENT + 1)
        except urllib.error.HTTPError as exc:
            raise _FetchError(f"{url} answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _FetchError(f"{url}: {reason}") from None
        if len(body) > _MAX_DOCUMENT:
            raise _FetchError(f"{url} sent over {_MAX_DOCUMENT} bytes")
        try:
            document = json.loads(body)
        except ValueError:
            raise _FetchError(f"{url} sent no JSON") from None
        if not isinstance(document, dict):
            raise _FetchError(f"{url} sent no JSON object")
        return document

    def __repr__(self) -> str:
        return (
            f"OIDCAuth(issuer={self.issuer!r}, audience={self.audience!r},"
            f" subjects={self.subjects!r})"
        )
