"""Knative entry point: ``uvicorn examples.echo.knative_app:app --port 8080``.

Or, without an entry module at all: ``veba serve examples.echo.handler``.
"""

from veba_sdk.adapters.knative import asgi

from .handler import router

app = asgi(router)
