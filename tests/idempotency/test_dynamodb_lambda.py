"""Two Lambda-handler processes on one DynamoDB table (moto's server mode over HTTP) handle
the same EventBridge events at once: each event runs once; items carry the TTL attribute."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from _idem_parts import PYTHON, TABLE, child_env, lines

from veba_sdk.adapters.aws_lambda import decode_event
from veba_sdk.idempotency import idempotency_key
from veba_sdk.testing import make_event, to_eventbridge

pytestmark = pytest.mark.slow


def test_two_lambda_sandboxes_handle_each_event_once(
    dynamodb_endpoint: str, tmp_path: Path
) -> None:
    import boto3

    events = [make_event("VmPoweredOnEvent") for _ in range(25)]
    # Each sandbox gets its own EventBridge envelope and router CloudEvent id per event:
    # only the vCenter Key and CreatedTime are shared, as on real redeliveries.
    for name in ("a", "b"):
        payload = [to_eventbridge(event) for event in events]
        (tmp_path / f"events-{name}.json").write_text(json.dumps(payload, default=str))
    log, go = tmp_path / "handled.log", tmp_path / "go"
    workers = [
        subprocess.Popen(
            [
                PYTHON,
                "_lambda_worker.py",
                str(tmp_path / f"events-{name}.json"),
                dynamodb_endpoint,
                str(log),
                str(go),
                order,
            ],
            cwd=Path(__file__).parent,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, order in (("a", "forward"), ("b", "reverse"))
    ]
    time.sleep(1.0)  # both imported and waiting
    go.touch()
    outputs = [worker.communicate(timeout=180) for worker in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    handled = Counter(line.split()[2] for line in lines(log))
    assert handled == Counter({str(event.key): 1 for event in events})
    assert len({line.split()[1] for line in lines(log)}) == 2  # both sandboxes did work
    retried = sum(json.loads(out)["retried"] for out, _ in outputs)
    assert retried >= 1  # they met on the same event in progress at least once

    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    keys = {idempotency_key(decode_event(to_eventbridge(event))) for event in events}
    assert len(keys) == len(events)
    now = time.time()
    for key in keys:
        item = client.get_item(TableName=TABLE, Key={"id": {"S": key}}, ConsistentRead=True)
        record = item["Item"]
        assert record["status"] == {"S": "COMPLETED"}
        assert now + 3000 < int(record["expiration"]["N"]) <= now + 3601  # epoch s: the TTL
