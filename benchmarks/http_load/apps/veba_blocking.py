"""The Knative ASGI app with a plain ``def`` handler that blocks for ``$VEBA_BENCH_SLEEP_MS``
(50 by default), as a handler waiting on a vROps call does; ``0`` makes it contender (c) of
``run.py``, which does not block. The handler threads are sized by ``VEBA_HANDLER_THREADS``
(see ``blocking.py``)."""

from __future__ import annotations

import os
import time
from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi

SLEEP = float(os.environ.get("VEBA_BENCH_SLEEP_MS", "50")) / 1000
router = Router()


@router.on("EnteredMaintenanceModeEvent")
def on_maintenance(event: Any) -> None:
    """Read the host's name, then wait as a call to vROps would."""
    if event.host.name and SLEEP:
        time.sleep(SLEEP)


app = asgi(router)
