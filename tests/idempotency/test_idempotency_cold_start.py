"""The shared stores cost a Lambda cold start nothing until used: importing the SDK, the
Lambda adapter and the stores, and building a store, loads neither redis nor boto3."""

from __future__ import annotations

import json
import subprocess

from _idem_parts import PYTHON, child_env

PROBE = """
import json, sys
import veba_sdk
from veba_sdk.adapters.aws_lambda import handler
from veba_sdk.idempotency import DynamoDBIdempotencyStore, RedisIdempotencyStore
router = veba_sdk.Router(idempotency=DynamoDBIdempotencyStore("veba-idempotency"))
other = veba_sdk.Router(idempotency=RedisIdempotencyStore.from_url("redis://10.0.0.1:6379"))
handler(router)
heavy = ("redis", "boto3", "botocore", "asyncio", "hashlib")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))))
"""

MISSING = """
import sys
sys.modules["redis"] = None  # as in an image built without the redis extra
from veba_sdk import Router
from veba_sdk.idempotency import RedisIdempotencyStore
from veba_sdk.testing import client
router = Router(idempotency=RedisIdempotencyStore.from_url("redis://127.0.0.1:1"))
@router.on("VmPoweredOnEvent")
def handler(event):
    raise AssertionError("ran without a claim")
with client(router, platform="knative") as function:
    print(function.send("VmPoweredOnEvent").status)
"""


def test_building_shared_stores_imports_no_client_library() -> None:
    done = subprocess.run(
        [PYTHON, "-c", PROBE], env=child_env(), capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


def test_a_missing_extra_fails_deliveries_naming_it() -> None:
    done = subprocess.run(
        [PYTHON, "-c", MISSING], env=child_env(), capture_output=True, text=True, check=True
    )
    output = done.stdout.strip().splitlines()
    assert output[-1] == "500"  # a retryable failure, never the event skipped
    reasons = [line for line in output if "idempotency store unavailable" in line]
    assert len(reasons) == 1
    assert "pip install 'veba-sdk[redis]'" in reasons[0]
