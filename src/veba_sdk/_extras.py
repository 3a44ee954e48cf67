"""Optional dependencies: which extra installs each, and the error that says so.

Every import of an optional dependency sits in a :func:`needs_extra` block, so a function
image built without the extra fails with one line naming the fix::

    with needs_extra("vrops", "veba_sdk.vrops"):
        import httpx
        import stamina

    # MissingExtra: veba_sdk.vrops needs stamina, which is not installed:
    #     pip install 'veba-sdk[vrops]'

Only the optional modules listed in :data:`OPTIONAL_MODULES` are translated: a missing core
dependency (attrs, cloudevents) or a missing module of the user's own stays the plain error it
is, since no extra would install it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._errors import MissingExtra

__all__ = ["OPTIONAL_MODULES", "MissingExtra", "needs_extra"]

#: Top-level modules that only an extra installs, with the distribution that provides each.
OPTIONAL_MODULES: dict[str, str] = {
    "boto3": "boto3",
    "botocore": "boto3",
    "click": "click",
    "cryptography": "cryptography",
    "functions_framework": "functions-framework",
    "httpx": "httpx",
    "jwt": "PyJWT",
    "opentelemetry": "opentelemetry-api",
    "orjson": "orjson",
    "prometheus_client": "prometheus-client",
    "pyVim": "pyvmomi",
    "pyVmomi": "pyvmomi",
    "redis": "redis",
    "stamina": "stamina",
    "uvicorn": "uvicorn",
    "waitress": "waitress",
    "yaml": "PyYAML",
}


@contextlib.contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn a missing optional module imported in the block into :class:`MissingExtra`.

    Args:
        extra: the extra that installs what the block imports (``"vrops"``).
        feature: what needs it, for the message (``"veba_sdk.vrops"``, ``"veba serve"``).
    """
    try:
        yield
    except MissingExtra:
        raise
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in OPTIONAL_MODULES:
            raise
        raise MissingExtra(top, extra, feature, distribution=OPTIONAL_MODULES[top]) from exc
