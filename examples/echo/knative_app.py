"""Knative entry point: ``uvicorn examples.echo.knative_app:app --port 8080``.

This module is the process's entry point, so it sets up logging (INFO to stderr) unless the
server already did; ``veba serve examples.echo.knative_app`` serves the same router with it.
Or, without an entry module: ``veba serve examples.echo.handler`` (then INFO records stay hidden).
"""

import logging

from veba_sdk.adapters.knative import asgi

from .handler import router

# A no-op when the root logger already has handlers (a server's or a test runner's config).
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = asgi(router)
