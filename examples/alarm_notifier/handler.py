"""Post a chat message when a vCenter alarm turns red; ignore every other transition.

``AlarmStatusChangedEvent`` carries the alarm (``event.alarm.name``), the entity it fired on
(``event.entity.name``) and the transition (``event.from_`` -> ``event.to``: ``gray``,
``green``, ``yellow``, ``red``). The route's ``where`` filter selects ``to == "red"``; other
transitions match no route, so the function acknowledges them (2xx) and does nothing.

The message is JSON ``{"text": ...}``, which Google Chat and Slack incoming webhooks (and
most chat tools) accept, POSTed to ``WEBHOOK_URL`` (read on each event, so a changed secret
needs no redeploy of code). A webhook failure (connection error, timeout, any 4xx/5xx) raises,
so the platform answers with a retryable error (HTTP 500, or a re-raise on Lambda) and the
broker redelivers the event. Successful events are remembered by the router's idempotency
store, so a redelivery after success posts nothing twice (per function instance).

Chat webhook URLs embed their credential: keep them in a secret, and keep the ``httpx``
logger at WARNING or above (at INFO it logs every request's URL).

Configuration:
    WEBHOOK_URL: the chat webhook URL (required).
    WEBHOOK_TIMEOUT: seconds per request (default 10).
"""

from __future__ import annotations

import os

import httpx

from veba_sdk import Context, Router
from veba_sdk.events import AlarmStatusChangedEvent

router = Router(idempotency=True)

# One client for the life of the process: connections are reused between events.
client = httpx.Client(timeout=float(os.environ.get("WEBHOOK_TIMEOUT", "10")))


class WebhookNotConfigured(RuntimeError):
    """``WEBHOOK_URL`` is not set."""


def message(event: AlarmStatusChangedEvent, ctx: Context) -> str:
    """The chat text for one alarm transition."""
    alarm = event.alarm.name if event.alarm is not None else "an alarm"
    entity = event.entity.name if event.entity is not None and event.entity.name else "?"
    previous = (event.from_ or "unknown").lower()
    when = event.created_time.strftime("%Y-%m-%d %H:%M:%S UTC") if event.created_time else ""
    text = f"\N{LARGE RED CIRCLE} Alarm '{alarm}' on {entity} changed from {previous} to red"
    details = ", ".join(p for p in (when, f"vCenter {ctx.source}") if p)
    return f"{text} ({details})"


@router.on("AlarmStatusChangedEvent", where=lambda event: (event.to or "").lower() == "red")
def notify(event: AlarmStatusChangedEvent, ctx: Context) -> dict[str, str]:
    """Post the alarm to the chat webhook; raise on any failure so the event is retried."""
    url = os.environ.get("WEBHOOK_URL")
    if not url:
        raise WebhookNotConfigured("set WEBHOOK_URL to the chat webhook's URL")
    text = message(event, ctx)
    response = client.post(url, json={"text": text})
    response.raise_for_status()
    ctx.logger.info("posted alarm %s to the webhook (%s)", ctx.id, response.status_code)
    return {"posted": text}
