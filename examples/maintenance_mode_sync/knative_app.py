"""Knative entry point: ``uvicorn examples.maintenance_mode_sync.knative_app:app``."""

from veba_sdk.adapters.knative import asgi

from .handler import router

app = asgi(router)
