"""Authentication configured from the environment (``VEBA_AUTH`` and its variables).

=====================  ====================================================================
variable               meaning
=====================  ====================================================================
``VEBA_AUTH``          ``oidc``, ``basic``, ``hmac``; unset, empty or ``none``: no check
``VEBA_OIDC_ISSUER``   the token issuer (required for ``oidc``)
``VEBA_OIDC_AUDIENCE`` the audience (required for ``oidc``): the Trigger's ``subscriber.audience``
``VEBA_OIDC_SUBJECTS`` allowed subjects, comma-separated, each exact or ending in ``*``
``VEBA_OIDC_JWKS_URL`` fetch keys here instead of through discovery
``VEBA_OIDC_CA_FILE``  CA bundle for the issuer's TLS certificate
``VEBA_OIDC_TOKEN_FILE`` bearer token sent when fetching the issuer's documents
``VEBA_OIDC_LEEWAY``   seconds of clock skew allowed (30)
``VEBA_BASIC_USERNAME`` user name (or ``VEBA_BASIC_USERNAME_FILE``)
``VEBA_BASIC_PASSWORD`` password (or ``VEBA_BASIC_PASSWORD_FILE``)
``VEBA_HMAC_SECRET``   shared secret (or ``VEBA_HMAC_SECRET_FILE``)
``VEBA_HMAC_HEADER``   signature header (``X-Hub-Signature-256``)
``VEBA_HMAC_ALGORITHM`` ``sha256`` (default), ``sha384``, ``sha512`` or ``sha1``
=====================  ====================================================================

A ``*_FILE`` variable names a file holding the value (a mounted Kubernetes secret); its
trailing newline is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import ConfigError
from ._base import Authenticator
from ._secrets import environ, read_setting

__all__ = ["SCHEMES", "from_env", "resolve"]

SCHEMES = ("oidc", "basic", "hmac")


def from_env(env: Mapping[str, str] | None = None) -> Authenticator | None:
    """The check ``VEBA_AUTH`` asks for, built from its variables; ``None`` when unset.

    Raises:
        ConfigError: an unknown scheme or a missing or unreadable setting (the message names
            the variable, never a secret).
    """
    env = environ() if env is None else env
    scheme = (env.get("VEBA_AUTH") or "").strip().lower()
    if scheme in ("", "none", "off"):
        return None
    if scheme == "basic":
        from ._basic import BasicAuth

        username = read_setting(env, "VEBA_BASIC_USERNAME")
        password = read_setting(env, "VEBA_BASIC_PASSWORD")
        return BasicAuth(username, password)
    if scheme == "hmac":
        from ._hmac import HMACAuth

        secret = read_setting(env, "VEBA_HMAC_SECRET")
        try:
            return HMACAuth(
                secret,
                header=env.get("VEBA_HMAC_HEADER") or "X-Hub-Signature-256",
                algorithm=(env.get("VEBA_HMAC_ALGORITHM") or "sha256").lower(),
            )
        except ValueError as exc:
            raise ConfigError(f"VEBA_HMAC_ALGORITHM: {exc}") from None
    if scheme == "oidc":
        return _oidc_from_env(env)
    raise ConfigError(f"VEBA_AUTH must be one of {', '.join(SCHEMES)} or none, not {scheme!r}")


def _oidc_from_env(env: Mapping[str, str]) -> Authenticator:
    from ._oidc import OIDCAuth

    missing = [n for n in ("VEBA_OIDC_ISSUER", "VEBA_OIDC_AUDIENCE") if not env.get(n)]
    if missing:
        raise ConfigError(f"VEBA_AUTH=oidc needs {' and '.join(missing)}")
    subjects_text = env.get("VEBA_OIDC_SUBJECTS")
    subjects = None
    if subjects_text:
        subjects = [s.strip() for s in subjects_text.split(",") if s.strip()]
    try:
        leeway = float(env.get("VEBA_OIDC_LEEWAY") or 30)
    except ValueError:
        raise ConfigError("VEBA_OIDC_LEEWAY must be a number of seconds") from None
    return OIDCAuth(
        issuer=env["VEBA_OIDC_ISSUER"],
        audience=env["VEBA_OIDC_AUDIENCE"],
        subjects=subjects,
        jwks_url=env.get("VEBA_OIDC_JWKS_URL") or None,
        ca_file=env.get("VEBA_OIDC_CA_FILE") or None,
        token_file=env.get("VEBA_OIDC_TOKEN_FILE") or None,
        leeway=leeway,
    )


def resolve(auth: Authenticator | None) -> Authenticator | None:
    """What an adapter factory checks with: ``auth``, or :func:`from_env` when it is ``None``.

    Raises:
        TypeError: ``auth`` is no :class:`Authenticator`.
        ConfigError: as :func:`from_env`.
    """
    if auth is None:
        return from_env()
    if not isinstance(auth, Authenticator):
        raise TypeError(
            f"auth must be an OIDCAuth, BasicAuth, HMACAuth or other Authenticator,"
            f" not {type(auth).__name__}"
        )
    return auth
