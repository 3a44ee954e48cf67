"""A signature over the body with a shared secret (what OpenFaaS recommends for functions).

The sender computes ``HMAC(secret, body)`` and sends it in a header, GitHub-style by default:
``X-Hub-Signature-256: sha256=<hex digest>``. The check runs on the raw bytes, before the body
is decoded, so a forged event is never parsed.
"""

from __future__ import annotations

import hmac

from ._base import Denial, Request

__all__ = ["HMACAuth"]

_ALGORITHMS = ("sha256", "sha384", "sha512", "sha1")


class HMACAuth:
    """Accept only requests whose body is signed with ``secret``.

    Args:
        secret: the shared secret (text is encoded as UTF-8).
        header: the header carrying the signature.
        algorithm: ``"sha256"`` (default), ``"sha384"``, ``"sha512"``, or ``"sha1"`` for
            older senders.

    The header's value is the hex digest, optionally prefixed by ``<algorithm>=``; compared in
    constant time. A missing or wrong signature gets 401 (no challenge header: there is no
    standard scheme to name).
    """

    needs_body = True

    def __init__(
        self, secret: str | bytes, *, header: str = "X-Hub-Signature-256", algorithm: str = "sha256"
    ) -> None:
        if not secret:
            raise ValueError("HMACAuth needs a non-empty secret")
        if algorithm not in _ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {', '.join(_ALGORITHMS)}, not {algorithm!r}"
            )
        self._secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        self.header = header
        self._header_key = header.lower()
        self.algorithm = algorithm
        self._prefix = algorithm + "="

    def signature(self, body: bytes) -> str:
        """The header value a sender puts on ``body``: ``"sha256=<hex>"``."""
        return self._prefix + hmac.new(self._secret, body, self.algorithm).hexdigest()

    def sign(self, body: bytes) -> dict[str, str]:
        """The header to send with ``body``: ``{"X-Hub-Signature-256": "sha256=..."}``."""
        return {self.header: self.signature(body)}

    def check(self, request: Request) -> Denial | None:
        """``None`` when the header holds the body's signature."""
        value = request.headers.get(self._header_key)
        if value is None:
            return Denial(401, f"no signature ({self.header} header missing)")
        value = value.strip()
        if value[: len(self._prefix)].lower() == self._prefix:
            value = value[len(self._prefix) :]
        elif "=" in value:
            return Denial(401, f"{self.header} is not a {self.algorithm} signature")
        expected = hmac.new(self._secret, request.body or b"", self.algorithm).hexdigest()
        if not hmac.compare_digest(value.lower().encode("ascii", "replace"), expected.encode()):
            return Denial(401, f"{self.header} does not match the body")
        return None

    def __repr__(self) -> str:
        return f"HMACAuth(secret='***', header={self.header!r}, algorithm={self.algorithm!r})"
