"""Where the client connects: the API base URL and TLS verification.

The names the tests and older code import from here (``Redactor``, ``error_from_response``,
``parse_retry_after``, ``ENV_NAMES``, ``parse_verify``) live in the modules of their job and
are re-exported.
"""

from __future__ import annotations

import threading

import httpx

from veba_sdk.vrops._call import DEFAULT_BASE_PATH, log
from veba_sdk.vrops._redaction import Redactor
from veba_sdk.vrops._responses import error_from_response
from veba_sdk.vrops._retry import parse_retry_after
from veba_sdk.vrops._settings import ENV_NAMES, parse_verify

__all__ = [
    "ENV_NAMES",
    "Redactor",
    "base_url",
    "error_from_response",
    "parse_retry_after",
    "parse_verify",
    "warn_if_insecure",
]


def base_url(host: str, base_path: str = DEFAULT_BASE_PATH) -> httpx.URL:
    """The API base URL from ``vrops.lab``, ``https://vrops.lab:443/``, ``http://127.0.0.1:8080``."""
    host = host.strip()
    if not host:
        raise ValueError("vROps host is empty")
    if "://" not in host:
        host = "https://" + host
    url = httpx.URL(host)
    path = url.path.rstrip("/")
    if path.endswith(base_path):
        path = path[: -len(base_path)]
    return url.copy_with(path=path + base_path, query=None, fragment=None)


_insecure_warned = False
_insecure_lock = threading.Lock()


def warn_if_insecure(verify: object, host: str) -> None:
    """Log once per process that TLS verification is off."""
    global _insecure_warned
    if verify is not False:
        return
    with _insecure_lock:
        if _insecure_warned:
            return
        _insecure_warned = True
    log.warning(
        "TLS certificate verification is disabled for vROps at %s; "
        "set VROPS_VERIFY to a CA bundle path instead",
        host,
    )
