"""Contenders (d) and (e): a hand-written functions-framework CloudEvent function.

``functions-framework --source ff_plain.py --target handle --signature-type cloudevent``
(``--asgi`` for contender e).
"""

from __future__ import annotations

from typing import Any

SEEN: list[str] = [""]


def handle(cloud_event: Any) -> None:
    """Read the host's name from the event data, the same work as the veba-sdk handlers."""
    SEEN[0] = cloud_event.data["Host"]["Name"]
