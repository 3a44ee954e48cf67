"""One Lambda sandbox: the function's ``lambda_handler`` on a DynamoDB idempotency store,
invoked with each EventBridge event of a JSON file, as Lambda's async invokes do (a raised
invocation is retried, 0.2 s later, up to 50 times).

argv: events.json endpoint handled.log go-file order(forward|reverse). Both orders start with
the same first event, whose handler takes 0.5 s: the two sandboxes surely meet on it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.aws_lambda import handler
from veba_sdk.idempotency import DynamoDBIdempotencyStore

events_file, endpoint, handled_log, go_file, order = sys.argv[1:6]
store = DynamoDBIdempotencyStore(
    "veba-idempotency", endpoint_url=endpoint, region_name="us-east-1", in_progress_ttl=30
)
router = Router(idempotency=store)


def _note(what: str, key: Any) -> None:
    fd = os.open(handled_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{what} {os.getpid()} {key}\n".encode())
    finally:
        os.close(fd)


@router.on("VmPoweredOnEvent")
def powered_on(event: Any) -> None:
    time.sleep(0.5 if event.key == FIRST_KEY else 0.05)
    _note("handled", event.key)


lambda_handler = handler(router)
events = json.loads(Path(events_file).read_text())
FIRST_KEY = events[0]["detail"]["data"]["Key"]
if order == "reverse":
    events[1:] = events[:0:-1]
while not os.path.exists(go_file):  # both sandboxes start together
    time.sleep(0.01)
retried = 0
for event in events:
    for _attempt in range(50):
        try:
            lambda_handler(event, None)
            break
        except Exception:  # HandlerError: in progress in the other sandbox; Lambda retries
            retried += 1
            time.sleep(0.2)
    else:
        raise SystemExit(f"event {event['id']} never succeeded")
print(json.dumps({"retried": retried}))
