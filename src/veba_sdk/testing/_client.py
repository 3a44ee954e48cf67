"""In-process test clients: a function's events through each platform's own entry, no sockets.

:func:`client` wraps a router (or a platform entry already built from one: the Knative ASGI app,
the OpenFaaS ``handle``, the ``lambda_handler``, a functions-framework source file) and sends
events the way the platform delivers them, answering a :class:`ClientResponse` that reads the
same on every platform::

    from veba_sdk.testing import client

    def test_enter(router):
        with client(router, platform="knative") as function:
            response = function.send("EnteredMaintenanceModeEvent", host__name="esx01")
        assert response.status == 200
        assert response.json() == {"host": "esx01"}

=============  ===================================================================================
platform       what runs
=============  ===================================================================================
``knative``    :func:`veba_sdk.adapters.knative.asgi` through ``httpx.ASGITransport``, on one event
               loop of the client's own (a thread), behind a plain synchronous API
``openfaas``   the python3-http template's ``handle(event, context)``
               (:func:`veba_sdk.adapters.openfaas.handler`), with the template's ``Event``
``lambda``     :func:`veba_sdk.adapters.aws_lambda.handler` given EventBridge events
``gcf``        functions-framework's own Flask app (``create_app(...).test_client()``); imported
               only here, so the other platforms need no functions-framework
=============  ===================================================================================

Lambda answers no HTTP status; the client maps its outcome onto the same policy the HTTP
platforms follow: a returned ``dict`` is 200 with it as JSON, ``None`` is 204, an
:class:`~veba_sdk.InvalidEvent` is 400 and any other exception (a handler failed) is 500; the
exception is kept as :attr:`ClientResponse.error`.
"""

from __future__ import annotations

import os
from typing import Any

from .._extras import needs_extra
from ._function_client import PLATFORMS, ClientResponse, FunctionClient, LambdaTestContext, Platform
from ._platform_clients import _GcfClient, _KnativeClient, _LambdaClient, _OpenFaaSClient

__all__ = [
    "PLATFORMS",
    "ClientResponse",
    "FunctionClient",
    "LambdaTestContext",
    "Platform",
    "client",
]


# -- the factory --------------------------------------------------------------------------------


def client(
    router_or_entry: Any = None,
    platform: Platform = "knative",
    *,
    source: str | os.PathLike[str] | None = None,
    target: str = "function",
    function_name: str = "veba-function",
    timeout: float = 30.0,
) -> FunctionClient:
    """An in-process client that delivers events to a function as ``platform`` does.

    Args:
        router_or_entry: a :class:`veba_sdk.Router` (the platform's adapter is built around
            it), or the platform entry already built: the ASGI app (knative), ``handle``
            (openfaas), ``lambda_handler`` (lambda), or the functions-framework function
            (gcf). For gcf, ``source=`` may name the entry file instead.
        platform: ``"knative"``, ``"openfaas"``, ``"lambda"`` or ``"gcf"``.
        source: gcf only: the functions-framework source file (``main.py``) to serve, with
            ``target`` as its function, exactly as ``functions-framework --source`` would.
        target: gcf only: the function's name.
        function_name: lambda only: the context's ``function_name``.
        timeout: knative only: seconds to wait for one answer.

    Raises:
        ValueError: an unknown platform, or nothing to serve.
        MissingExtra: the platform's dependency is not installed (knative: httpx, the
            ``vrops`` extra; gcf: functions-framework, the ``gcf`` extra).
    """
    from .._router import Router

    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    is_router = isinstance(router_or_entry, Router)
    if router_or_entry is None and not (platform == "gcf" and source is not None):
        raise ValueError("give a router, the platform's entry, or (gcf) source=")
    if platform == "knative":
        with needs_extra("vrops", "veba_sdk.testing.client(platform='knative')"):
            import httpx  # noqa: F401  # ASGITransport
        if is_router:
            from ..adapters.knative import asgi

            return _KnativeClient(asgi(router_or_entry, gc_threshold=None), timeout)
        return _KnativeClient(router_or_entry, timeout)
    if platform == "openfaas":
        if is_router:
            from ..adapters.openfaas import handler

            return _OpenFaaSClient(handler(router_or_entry))
        return _OpenFaaSClient(router_or_entry)
    if platform == "lambda":
        if is_router:
            from ..adapters.aws_lambda import handler as lambda_handler

            return _LambdaClient(lambda_handler(router_or_entry), function_name)
        return _LambdaClient(router_or_entry, function_name)
    if source is not None:
        return _GcfClient(target, os.fspath(source), None)
    if is_router:
        from ..adapters.gcf import function

        return _GcfClient(target, None, function(router_or_entry, target))
    return _GcfClient(target, None, router_or_entry)
