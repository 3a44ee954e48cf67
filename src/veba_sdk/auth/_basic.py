"""HTTP basic authentication, checked as VEBA's webhook provider checks it."""

from __future__ import annotations

import base64
import binascii
import hmac

from ._base import Denial, Request

__all__ = ["BasicAuth"]


class BasicAuth:
    """Accept only requests whose ``Authorization: Basic`` carries this user name and password.

    Both are compared in constant time (the time taken says nothing about how much of either
    matched). A request without them, or with others, gets 401 with
    ``WWW-Authenticate: Basic realm="..."``, so clients know to send them.

    Args:
        username: the expected user name.
        password: the expected password.
        realm: the realm named in ``WWW-Authenticate``.
    """

    needs_body = False

    def __init__(self, username: str, password: str, *, realm: str = "veba") -> None:
        if not username or not password:
            raise ValueError("BasicAuth needs a non-empty user name and password")
        if ":" in username:
            raise ValueError("a basic-auth user name cannot contain ':'")
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")
        self.realm = realm
        self._challenge = (
            ("WWW-Authenticate", f'Basic realm="{_quoted(realm)}", charset="UTF-8"'),
        )

    def sign(self, body: bytes = b"") -> dict[str, str]:
        """The header a sender puts on a request: ``{"Authorization": "Basic ..."}``."""
        pair = self._username + b":" + self._password
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def check(self, request: Request) -> Denial | None:
        """``None`` when the request carries the right user name and password."""
        header = request.headers.get("authorization")
        if header is None:
            return self._deny("no basic credentials (Authorization header missing)")
        scheme, _, encoded = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return self._deny("Authorization is not Basic")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return self._deny("Basic credentials are not base64")
        username, sep, password = decoded.partition(b":")
        # Both compares always run: '&' does not short-circuit.
        user_ok = hmac.compare_digest(username, self._username)
        password_ok = hmac.compare_digest(password, self._password)
        if not (sep and user_ok & password_ok):
            return self._deny("wrong user name or password")
        return None

    def _deny(self, reason: str) -> Denial:
        return Denial(401, reason, self._challenge)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self._username.decode('utf-8')!r}, password='***')"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
