"""Knative entry point: ``uvicorn examples.alarm_notifier.knative_app:app --port 8080``.

Or, without an entry module: ``WEBHOOK_URL=... veba serve examples.alarm_notifier.handler``.
"""

from veba_sdk.adapters.knative import asgi

from .handler import router

app = asgi(router)
