"""A DynamoDB store, shared by every Lambda sandbox of a function (Powertools' layout).

One item per event: ``id`` (the key), ``status`` (``INPROGRESS``/``COMPLETED``),
``expiration`` (epoch seconds: the table's TTL attribute, so DynamoDB deletes old items by
itself) and ``in_progress_expiration`` (epoch milliseconds). A claim is one conditional put::

    attribute_not_exists(id) OR expiration < :now
        OR (status = INPROGRESS AND in_progress_expiration < :now_ms)

DynamoDB's TTL deletion runs late (up to days), which is why the condition compares the
expirations itself instead of trusting an expired item to be gone.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .._extras import needs_extra
from ._base import COMPLETED, IN_PROGRESS, IdempotencyStoreError, Outcome

__all__ = ["DynamoDBIdempotencyStore"]

_ATTEMPTS = 3  # a taken item deleted between the put and the read is claimed again
_CONDITION = (
    "attribute_not_exists(#id) OR #expiration < :now "
    "OR (#status = :in_progress AND #in_progress_expiration < :now_ms)"
)


class DynamoDBIdempotencyStore:
    """Idempotency records in a DynamoDB table (the ``dynamodb`` extra, boto3).

    The table has a string partition key (``id`` by default) and, best, TTL enabled on
    ``expiration``. From ``dispatch_async`` the boto3 calls run in a worker thread.
    The client is made on first use: importing and building the store does no I/O.

    Args:
        table_name: the table.
        ttl: seconds a completed event is remembered (default one hour).
        in_progress_ttl: seconds after which a claim whose sandbox died frees itself; at least
            the function's timeout.
        key_attr, status_attr, expiry_attr, in_progress_expiry_attr: attribute names.
        client: a boto3 DynamoDB client to use instead of making one.
        options: passed to ``boto3.client("dynamodb", ...)`` (``region_name``,
            ``endpoint_url``...); connect and read timeouts default to 2 seconds, 2 attempts.
    """

    def __init__(
        self,
        table_name: str,
        *,
        ttl: float = 3600.0,
        in_progress_ttl: float = 300.0,
        key_attr: str = "id",
        status_attr: str = "status",
        expiry_attr: str = "expiration",
        in_progress_expiry_attr: str = "in_progress_expiration",
        client: Any = None,
        **options: Any,
    ) -> None:
        if ttl <= 0 or in_progress_ttl <= 0:
            raise ValueError("ttl and in_progress_ttl must be positive numbers of seconds")
        self.table_name = table_name
        self.ttl = ttl
        self.in_progress_ttl = in_progress_ttl
        self._names = {
            "#id": key_attr,
            "#status": status_attr,
            "#expiration": expiry_attr,
            "#in_progress_expiration": in_progress_expiry_attr,
        }
        self._key_attr = key_attr
        self._status_attr = status_attr
        self._expiry_attr = expiry_attr
        self._in_progress_attr = in_progress_expiry_attr
        self._options = options
        self._client = client
        self._lock = threading.Lock()
        self._clock = time.time

    def _dynamodb(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    with needs_extra("dynamodb", "DynamoDBIdempotencyStore"):
                        import boto3
                        from botocore.config import Config
                    options = dict(self._options)
                    options.setdefault(
                        "config",
                        Config(
                            connect_timeout=2,
                            read_timeout=2,
                            retries={"max_attempts": 2, "mode": "standard"},
                        ),
                    )
                    self._client = boto3.client("dynamodb", **options)
                client = self._client
        return client

    def _failure(self, action: str, key: str, exc: Exception) -> IdempotencyStoreError:
        return IdempotencyStoreError.failed(
            f"dynamodb store (table {self.table_name})", action, key, exc
        )

    def begin(self, key: str) -> Outcome:
        """Claim ``key`` with a conditional put; see
        :class:`~veba_sdk.idempotency.IdempotencyStore`."""
        try:
            client = self._dynamodb()
            for _ in range(_ATTEMPTS):
                now = self._clock()
                try:
                    client.put_item(
                        TableName=self.table_name,
                        Item={
                            self._key_attr: {"S": key},
                            self._status_attr: {"S": IN_PROGRESS},
                            self._expiry_attr: {"N": str(int(now + self.ttl))},
                            self._in_progress_attr: {
                                "N": str(int((now + self.in_progress_ttl) * 1000))
                            },
                        },
                        ConditionExpression=_CONDITION,
                        ExpressionAttributeNames=self._names,
                        ExpressionAttributeValues={
                            ":now": {"N": str(int(now))},
                            ":now_ms": {"N": str(int(now * 1000))},
                            ":in_progress": {"S": IN_PROGRESS},
                        },
                        # A refused claim answers the item that refused it: no second call.
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    )
                except client.exceptions.ConditionalCheckFailedException as refused:
                    item = refused.response.get("Item")
                    if item is None:  # a service that does not return it: read it
                        item = client.get_item(
                            TableName=self.table_name,
                            Key={self._key_attr: {"S": key}},
                            ConsistentRead=True,
                        ).get("Item")
                    if item is None:
                        continue  # deleted (abandoned) since the put: claim again
                    status = item.get(self._status_attr, {}).get("S")
                    if status == COMPLETED:
                        return "completed"
                    if status == IN_PROGRESS:
                        return "in_progress"
                    raise IdempotencyStoreError(
                        f"dynamodb store: item {key} has status {status!r}"
                    ) from None
                else:
                    return "new"
        except IdempotencyStoreError:
            raise
        except Exception as exc:
            raise self._failure("claim", key, exc) from exc
        raise IdempotencyStoreError(f"dynamodb store: {key} kept vanishing while being claimed")

    def complete(self, key: str) -> None:
        """Mark ``key`` handled until ``ttl`` seconds from now."""
        try:
            self._dynamodb().put_item(
                TableName=self.table_name,
                Item={
                    self._key_attr: {"S": key},
                    self._status_attr: {"S": COMPLETED},
                    self._expiry_attr: {"N": str(int(self._clock() + self.ttl))},
                },
            )
        except Exception as exc:
            raise self._failure("complete", key, exc) from exc

    def abandon(self, key: str) -> None:
        """Delete the item of ``key`` so a redelivery runs."""
        try:
            self._dynamodb().delete_item(
                TableName=self.table_name, Key={self._key_attr: {"S": key}}
            )
        except Exception as exc:
            raise self._failure("abandon", key, exc) from exc

    async def begin_async(self, key: str) -> Outcome:
        """:meth:`begin` in a worker thread (boto3 blocks)."""
        import asyncio

        return await asyncio.to_thread(self.begin, key)

    async def complete_async(self, key: str) -> None:
        """:meth:`complete` in a worker thread."""
        import asyncio

        await asyncio.to_thread(self.complete, key)

    async def abandon_async(self, key: str) -> None:
        """:meth:`abandon` in a worker thread."""
        import asyncio

        await asyncio.to_thread(self.abandon, key)

    def __repr__(self) -> str:
        return (
            f"DynamoDBIdempotencyStore({self.table_name!r}, ttl={self.ttl}, "
            f"in_progress_ttl={self.in_progress_ttl})"
        )
