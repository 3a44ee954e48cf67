"""A Kubernetes-style OIDC issuer on loopback: discovery document, JWKS, and token minting.

The server is real (``http.server`` on 127.0.0.1 in a thread); the keys are real RSA and EC
keys made per test session; tokens are signed with PyJWT as the API server signs service
account tokens (``kid`` header, ``iss``, ``aud``, ``sub``, ``exp``, ``nbf``, ``iat``).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

SUBJECT = "system:serviceaccount:vmware-functions:veba-trigger-oidc-sa"
AUDIENCE = "veba-fn"


@functools.cache
def _keys() -> tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]:
    """Made once per test process (RSA key generation takes a while)."""
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


class Issuer:
    """Keys, documents and counters of one loopback issuer."""

    def __init__(self) -> None:
        self.rsa, self.ec, self.other_rsa = _keys()
        self.published: dict[str, Any] = {"rsa-1": self.rsa, "ec-1": self.ec}
        self.url = ""
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self.down = False
        self.seen_authorization: list[str | None] = []

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.published.items():
            algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, use="sig")
            keys.append(jwk)
        return {"keys": keys}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.url + "/openid/v1/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": [AUDIENCE],
            "sub": SUBJECT,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self, *, kid: str = "rsa-1", alg: str | None = None, key: Any = None, **claims: Any
    ) -> str:
        """A token signed by the key published as ``kid`` (or ``key``), with ``claims``."""
        signing = key if key is not None else self.published[kid]
        if alg is None:
            alg = "RS256" if isinstance(signing, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(self.claims(**claims), signing, algorithm=alg, headers={"kid": kid})


class _Handler(BaseHTTPRequestHandler):
    issuer: Issuer

    def do_GET(self) -> None:
        issuer = self.issuer
        issuer.seen_authorization.append(self.headers.get("Authorization"))
        if issuer.down:
            self.send_error(503)
            return
        if self.path == "/.well-known/openid-configuration":
            issuer.discovery_fetches += 1
            document = issuer.discovery()
        elif self.path == "/openid/v1/jwks":
            issuer.jwks_fetches += 1
            document = issuer.jwks()
        else:
            self.send_error(404)
            return
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet


@contextmanager
def serving() -> Iterator[Issuer]:
    """An :class:`Issuer` serving on a free loopback port until the block ends."""
    issuer = Issuer()
    handler = type("Handler", (_Handler,), {"issuer": issuer})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
