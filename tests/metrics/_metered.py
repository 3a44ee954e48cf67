"""The function the metrics tests serve, in every server's own process.

``powered_on`` and the async ``audit`` return, ``powered_off`` raises; the in-memory
idempotency store turns a redelivery into a duplicate; ``UserLoginSessionEvent`` and any
foreign CloudEvent match nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from veba_sdk import Router
from veba_sdk.adapters import knative, openfaas

router = Router(idempotency=True)


@router.on("VmPoweredOnEvent")
def powered_on(event: Any) -> None:
    """Returns."""


@router.on("VmPoweredOnEvent")
async def audit(event: Any) -> None:
    """Returns after a short wait on the loop."""
    await asyncio.sleep(0.002)


@router.on("VmPoweredOffEvent")
def powered_off(event: Any) -> None:
    """Raises, so the broker would retry."""
    raise RuntimeError("vROps is down")


def knative_app() -> knative.ASGIApp:
    """The Knative ASGI app with metrics (a uvicorn factory)."""
    return knative.asgi(router, metrics=True)


def knative_wsgi() -> knative.WSGIApp:
    """The Knative WSGI app with metrics."""
    return knative.wsgi(router, metrics=True)


def openfaas_handle() -> openfaas.PythonHttpHandle:
    """The python3-http ``handle`` with metrics."""
    return openfaas.handler(router, metrics=True)


if __name__ == "__main__":  # the standalone OpenFaaS server: python _metered.py PORT
    import sys

    from veba_sdk.cli.openfaas_wsgi import serve

    serve(openfaas_handle(), "127.0.0.1", int(sys.argv[1]))


def knative_guarded() -> knative.ASGIApp:
    """The Knative ASGI app with metrics behind basic auth (a uvicorn factory)."""
    from veba_sdk.auth import BasicAuth

    return knative.asgi(Router(), metrics=True, auth=BasicAuth("scraper", "s3cret"))
