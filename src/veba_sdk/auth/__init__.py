"""Sender authentication: only the broker may call a function.

Every adapter factory takes ``auth=`` (and ``veba serve`` reads ``VEBA_AUTH``):

* :class:`OIDCAuth` checks Knative's sender identity, a Bearer JWT from the cluster's service
  account issuer (Knative Eventing's ``authentication-oidc``; needs ``veba-sdk[oidc]``);
* :class:`BasicAuth` checks HTTP basic credentials, as VEBA's webhook provider does;
* :class:`HMACAuth` checks a signature over the body made with a shared secret;
* :func:`from_env` builds one of them from ``VEBA_AUTH`` and its variables.

A check takes a :class:`Request` and returns ``None`` or a :class:`Denial` (401 with
``WWW-Authenticate``, 403, or 503 when an issuer's keys cannot be fetched). Adapters answer a
denial with its one-line reason, log one warning line, and never read (HMAC: never decode) the
body of a refused request. ``auth=None`` (the default) skips all of it.

Anything with ``needs_body`` and ``check(request)`` (the :class:`Authenticator` protocol)
can be passed as ``auth=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._base import Authenticator, Denial, Request, check_async, headers_from_pairs, log_denial
from ._env import from_env, resolve

if TYPE_CHECKING:
    from ._basic import BasicAuth
    from ._hmac import HMACAuth
    from ._oidc import OIDCAuth

__all__ = [
    "Authenticator",
    "BasicAuth",
    "Denial",
    "HMACAuth",
    "OIDCAuth",
    "Request",
    "check_async",
    "from_env",
    "headers_from_pairs",
    "log_denial",
    "resolve",
]

# The schemes are imported when first named: the adapters import this package, and a function
# that checks nothing should not pay for base64, hmac or the OIDC machinery.
_LAZY = {"BasicAuth": "_basic", "HMACAuth": "_hmac", "OIDCAuth": "_oidc"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
