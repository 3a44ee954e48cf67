"""vROps (Aria Operations / VCF Operations) client for VEBA functions.

>>> from veba_sdk.vrops import VropsClient
>>> vrops = VropsClient.shared()   # in a handler: made once, on first use  # doctest: +SKIP
>>> vrops.mark_host_maintained("esx01.lab", duration=60)  # doctest: +SKIP

Needs the ``vrops`` extra (``pip install 'veba-sdk[vrops]'``: httpx, stamina); without it,
importing this package raises :class:`veba_sdk.MissingExtra` saying so.
"""

from veba_sdk._extras import needs_extra as _needs_extra

with _needs_extra("vrops", "veba_sdk.vrops"):
    import httpx  # noqa: F401  # checked first: every module below needs it
    import stamina  # noqa: F401

from veba_sdk.vrops._async_client import AsyncVropsClient
from veba_sdk.vrops._auth import VropsTokenAuth
from veba_sdk.vrops._call import RequestHook, set_request_hook
from veba_sdk.vrops._client import VropsClient
from veba_sdk.vrops._errors import AmbiguousResource, VropsAuthError, VropsError, VropsNotFound
from veba_sdk.vrops._models import (
    MAINTENANCE_STATES,
    Alert,
    AlertNote,
    NodeStatus,
    Page,
    PageInfo,
    Resource,
    ResourceState,
)
from veba_sdk.vrops._options import EventType, Scheme, Severity
from veba_sdk.vrops._retry import RetryPolicy
from veba_sdk.vrops._settings import settings_from_env

__all__ = [
    "MAINTENANCE_STATES",
    "Alert",
    "AlertNote",
    "AmbiguousResource",
    "AsyncVropsClient",
    "EventType",
    "NodeStatus",
    "Page",
    "PageInfo",
    "RequestHook",
    "Resource",
    "ResourceState",
    "RetryPolicy",
    "Scheme",
    "Severity",
    "VropsAuthError",
    "VropsClient",
    "VropsError",
    "VropsNotFound",
    "VropsTokenAuth",
    "set_request_hook",
    "settings_from_env",
]
