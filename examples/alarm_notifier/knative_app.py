"""Knative entry point: ``uvicorn examples.alarm_notifier.knative_app:app --port 8080``.

This module is the process's entry point, so it sets up logging (INFO to stderr) unless the
server already did; ``veba serve examples.alarm_notifier.knative_app`` serves the same router
with it. Or, without an entry module: ``WEBHOOK_URL=... veba serve examples.alarm_notifier.handler``
(then INFO records stay hidden).
"""

import logging

from veba_sdk.adapters.knative import asgi

from .handler import router

# A no-op when the root logger already has handlers (a server's or a test runner's config).
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = asgi(router)
