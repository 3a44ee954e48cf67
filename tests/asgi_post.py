"""POST one request to an ASGI app in process, through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


def post(app: Any, headers: dict[str, str], body: bytes) -> httpx.Response:
    """POST ``body`` with ``headers`` to ``app`` at ``/`` and return the response."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://function") as client:
            return await client.post("/", headers=headers, content=body)

    return asyncio.run(go())
