"""The ``routed`` fixture: one router per route shape."""

from __future__ import annotations

import pytest
from manifest_corpus import ROUTERS

from veba_sdk import Router


@pytest.fixture(params=sorted(ROUTERS))
def routed(request: pytest.FixtureRequest) -> tuple[str, Router]:
    """``(name, router)`` for every route shape."""
    return request.param, ROUTERS[request.param]()
