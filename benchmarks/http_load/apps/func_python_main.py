"""Contender (g): Knative's func-python (cloudevents 2.x) serving an equivalent function.

This is what ``func build`` produces for a ``func create -l python -t cloudevents`` function:
a module with ``new()`` returning an instance with ``async def handle(scope, receive, send)``,
started by the scaffolding's ``func_python.cloudevent.serve(new)`` (hypercorn underneath),
listening on ``LISTEN_ADDRESS``. func-python decodes the CloudEvent into ``scope["event"]``.

Run with the cloudevents 2.x venv: ``LISTEN_ADDRESS=127.0.0.1:8080 python func_python_main.py``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

_NO_CONTENT = {"type": "http.response.start", "status": 204, "headers": []}
_EMPTY = {"type": "http.response.body", "body": b""}


class Function:
    """The function instance: reads the host's name and answers 204."""

    def __init__(self) -> None:
        self.seen = ""

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Read ``Host.Name`` from the already-decoded event; answer 204 without a reply."""
        data = scope["event"].get_data()
        if isinstance(data, (bytes, bytearray, str)):  # binary mode data may stay raw
            data = json.loads(data)
        self.seen = data["Host"]["Name"]
        await send.http(_NO_CONTENT)
        await send.http(_EMPTY)


def new() -> Function:
    """func-python's entry point."""
    return Function()


if __name__ == "__main__":
    from func_python.cloudevent import serve

    serve(new)
    logging.shutdown()
