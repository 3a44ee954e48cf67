"""The ``aws_event_bridge`` processor: ``PutEvents`` on an EventBridge bus.

What VEBA's event router does (``internal/processor/aws``):

* at start, find the rule ``ruleARN`` on the bus with ``ListRules`` and compile its event
  pattern; an event the pattern does not match is not sent;
* send ``PutEvents`` entries with ``Source`` = the CloudEvent source, ``DetailType`` = its
  subject (the vCenter class name or EventTypeId), ``Detail`` = the structured CloudEvent
  JSON and ``EventBusName`` = ``eventBus``;
* credentials from ``awsAccessKeyAuth`` (``auth.type: aws_access_key``), or boto3's default
  chain (environment, shared files, container or instance role) for ``aws_iam_role``.

Where it does better:

* the pattern is matched against the event as EventBridge will see it (``source``,
  ``detail-type``, ``account``, ``region``, ``time``, ``detail``), not against
  ``{"detail": ...}`` alone, so rules on ``source`` or ``detail-type`` work too;
* ``Time`` is the vCenter event's time, not the time of sending;
* entries go in batches of up to 10 (and 256 KiB) per call; ``FailedEntryCount`` is checked
  and only the failed entries are sent again when the source retries, in order, before any
  later event; a failed call is retried whole. Nothing is skipped, except an entry
  EventBridge can never accept (over 256 KiB, or refused as malformed): that one is logged
  as an error and counted as a failure in ``/stats``.

boto3 is imported only when an :class:`EventBridgeTarget` is made (extra
``veba-sdk[eventbridge]``). ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_EVENTS``) points it at
another endpoint, as for every boto3 client.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

from veba_sdk._errors import ConfigError
from veba_sdk._extras import needs_extra
from veba_sdk.source.delivery import DeliveryError
from veba_sdk.source.eventpattern import EventPattern
from veba_sdk.source.openfaas import event_topic
from veba_sdk.source.stats import ProcessorStats

__all__ = ["MAX_BATCH", "MAX_REQUEST_BYTES", "EventBridgeTarget", "eventbridge_event"]

logger = logging.getLogger("veba_sdk.source")

MAX_BATCH = 10
MAX_REQUEST_BYTES = 256 * 1024
# Entry errors no retry can fix.
_PERMANENT_CODES = frozenset({"MalformedDetail", "InvalidArgument", "ValidationException"})


def _structured(attributes: dict[str, Any], data: bytes | dict[str, Any]) -> dict[str, Any]:
    document = dict(attributes)
    document["data"] = json.loads(data) if isinstance(data, bytes) else data
    return document


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    head, dot, rest = text.partition(".")
    if dot:  # Python reads 6 fractional digits; Go writes up to 9
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def eventbridge_event(
    attributes: dict[str, Any],
    data: bytes | dict[str, Any],
    *,
    account: str = "",
    region: str = "",
) -> dict[str, Any]:
    """The event as EventBridge delivers it to rules: what the pattern is matched against."""
    return {
        "version": "0",
        "id": str(attributes.get("id", "")),
        "detail-type": event_topic(attributes),
        "source": str(attributes.get("source", "")),
        "account": account,
        "time": str(attributes.get("time", "")),
        "region": region,
        "resources": [],
        "detail": _structured(attributes, data),
    }


def _entry_size(entry: dict[str, Any]) -> int:
    """PutEvents entry size as AWS computes it (UTF-8 bytes of its parts, 14 for Time)."""
    size = 14 if "Time" in entry else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key, "")).encode("utf-8"))
    return size


class EventBridgeTarget:
    """A delivery target sending events matching a rule's pattern to an EventBridge bus.

    Args:
        event_bus: the bus name or ARN (``eventBus``).
        region: the AWS region (``region``).
        rule_arn: the rule whose pattern selects events (``ruleARN``).
        access_key, secret_key: static credentials; ``None`` uses boto3's default chain.
        endpoint_url: another EventBridge endpoint (else ``AWS_ENDPOINT_URL...``).
        client: a boto3 ``events`` client to use instead of making one.
        batch_size: entries per ``PutEvents`` call, 1 to 10.

    Raises:
        ConfigError: the rule cannot be listed, is not on the bus, or has no event pattern.
    """

    name = "aws_event_bridge"

    def __init__(
        self,
        *,
        event_bus: str,
        region: str,
        rule_arn: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
        batch_size: int = MAX_BATCH,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.event_bus = event_bus
        self.region = region
        self.rule_arn = rule_arn
        self.batch_size = batch_size
        parts = rule_arn.split(":")
        self.account = parts[4] if len(parts) > 5 else ""
        self._client = client or _make_client(region, access_key, secret_key, endpoint_url)
        self.pattern = self._load_pattern()
        # The batch being delivered and the ids of its events already put.
        self._progress: tuple[tuple[str, ...], set[str]] = ((), set())
        self.stats = ProcessorStats(self.name, rule_arn)

    def __repr__(self) -> str:
        return f"EventBridgeTarget({self.event_bus!r}, {self.rule_arn!r})"

    def _load_pattern(self) -> EventPattern:
        from botocore.exceptions import BotoCoreError, ClientError

        token: str | None = None
        try:
            while True:
                request: dict[str, Any] = {"EventBusName": self.event_bus, "Limit": 50}
                if token:
                    request["NextToken"] = token
                page = self._client.list_rules(**request)
                for rule in page.get("Rules", []):
                    if rule.get("Arn") == self.rule_arn:
                        return self._compile(rule.get("EventPattern"))
                token = page.get("NextToken")
                if not token:
                    break
        except (BotoCoreError, ClientError) as exc:
            raise ConfigError(
                f"eventProcessor.awsEventBridge: cannot list the rules of bus "
                f"{self.event_bus}: {' '.join(str(exc).split())}"
            ) from None
        raise ConfigError(
            f"eventProcessor.awsEventBridge.ruleARN: no rule {self.rule_arn} on event bus "
            f"{self.event_bus} in {self.region}"
        )

    def _compile(self, text: Any) -> EventPattern:
        if not text:
            raise ConfigError(
                f"eventProcessor.awsEventBridge.ruleARN: rule {self.rule_arn} has no event "
                "pattern (a scheduled rule?)"
            )
        try:
            pattern = EventPattern(str(text))
        except ValueError as exc:
            raise ConfigError(
                f"eventProcessor.awsEventBridge.ruleARN: the pattern of {self.rule_arn} "
                f"is not understood: {exc}"
            ) from None
        logger.info("eventbridge: sending events matching %s to bus %s", text, self.event_bus)
        return pattern

    # -- delivery --------------------------------------------------------------------------

    def matches(self, attributes: dict[str, Any], data: bytes | dict[str, Any]) -> bool:
        """Whether the rule's pattern matches the event (else it is not sent)."""
        event = eventbridge_event(attributes, data, account=self.account, region=self.region)
        return self.pattern.matches(event)

    def entry(self, attributes: dict[str, Any], data: bytes | dict[str, Any]) -> dict[str, Any]:
        """The ``PutEvents`` entry of an event."""
        detail = json.dumps(_structured(attributes, data), separators=(",", ":"))
        entry: dict[str, Any] = {
            "Source": str(attributes.get("source", "")),
            "DetailType": event_topic(attributes),
            "Detail": detail,
            "EventBusName": self.event_bus,
        }
        created = _parse_time(attributes.get("time"))
        if created is not None:
            entry["Time"] = created
        return entry

    def __call__(self, attributes: dict[str, Any], data: bytes | dict[str, Any]) -> None:
        """Send one event (if the pattern matches it)."""
        self.deliver_batch([(attributes, data)])

    def deliver_batch(self, items: Sequence[tuple[dict[str, Any], bytes | dict[str, Any]]]) -> None:
        """Send the matching events of ``items`` in ``PutEvents`` calls of up to 10 entries.

        Raises:
            DeliveryError: a call failed, or some entries failed (``failed_count``); when
                the source retries the same events, only those not yet put are sent.
        """
        ids = tuple(str(attributes.get("id", "")) for attributes, _ in items)
        if self._progress[0] != ids:
            self._progress = (ids, set())
        done = self._progress[1]
        pending: list[tuple[str, str, dict[str, Any]]] = []
        for (attributes, data), event_id in zip(items, ids, strict=True):
            if event_id in done:
                continue
            if not self.matches(attributes, data):
                logger.debug("eventbridge: rule pattern does not match event %s", event_id)
                done.add(event_id)
                continue
            pending.append((event_id, event_topic(attributes), self.entry(attributes, data)))
        failures: list[str] = []
        for call in self._calls(pending):
            failures.extend(self._put(call, done))
        if failures:
            raise DeliveryError(
                f"eventbridge: {len(failures)} of {len(pending)} entries failed: "
                + "; ".join(failures[:5]),
                failed_count=len(failures),
            )
        self._progress = ((), set())

    def _calls(
        self, pending: list[tuple[str, str, dict[str, Any]]]
    ) -> list[list[tuple[str, str, dict[str, Any]]]]:
        calls: list[list[tuple[str, str, dict[str, Any]]]] = []
        current: list[tuple[str, str, dict[str, Any]]] = []
        size = 0
        for item in pending:
            entry_size = _entry_size(item[2])
            full = len(current) >= self.batch_size or size + entry_size > MAX_REQUEST_BYTES
            if current and full:
                calls.append(current)
                current, size = [], 0
            current.append(item)
            size += entry_size
        if current:
            calls.append(current)
        return calls

    def _put(self, call: list[tuple[str, str, dict[str, Any]]], done: set[str]) -> list[str]:
        """One ``PutEvents`` call; marks accepted ids done; returns failure descriptions."""
        from botocore.exceptions import BotoCoreError, ClientError

        sendable = []
        for event_id, topic, entry in call:
            if _entry_size(entry) > MAX_REQUEST_BYTES:
                self._give_up(event_id, topic, "TooLarge", f"{_entry_size(entry)} bytes")
                done.add(event_id)
            else:
                sendable.append((event_id, topic, entry))
        if not sendable:
            return []
        try:
            response = self._client.put_events(Entries=[entry for _, _, entry in sendable])
        except (BotoCoreError, ClientError) as exc:
            for _, topic, _ in sendable:
                self.stats.failure(topic)
            return [f"PutEvents failed: {' '.join(str(exc).split())[:300]}"]
        failures = []
        results = response.get("Entries", [])
        for index, (event_id, topic, _) in enumerate(sendable):
            result = results[index] if index < len(results) else {"ErrorCode": "NoResult"}
            code = result.get("ErrorCode")
            if not code and result.get("EventId"):
                self.stats.success(topic)
                done.add(event_id)
                continue
            message = result.get("ErrorMessage", "")
            if code in _PERMANENT_CODES:
                self._give_up(event_id, topic, str(code), str(message))
                done.add(event_id)
            else:
                self.stats.failure(topic)
                failures.append(f"event {event_id}: {code} {message}".strip())
        if response.get("FailedEntryCount"):
            logger.warning(
                "eventbridge: FailedEntryCount %s of %d entries",
                response["FailedEntryCount"],
                len(sendable),
            )
        return failures

    def _give_up(self, event_id: str, topic: str, code: str, message: str) -> None:
        self.stats.failure(topic)
        logger.error(
            "eventbridge: event %s (%s) can never be put (%s: %s); not retried",
            event_id,
            topic,
            code,
            message,
        )

    def close(self) -> None:
        """Close the boto3 client's connections."""
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> EventBridgeTarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _make_client(
    region: str, access_key: str | None, secret_key: str | None, endpoint_url: str | None
) -> Any:

    with needs_extra("eventbridge", "veba_sdk.source.EventBridgeTarget"):
        import boto3
        from botocore.config import Config

    options: dict[str, Any] = {
        "region_name": region,
        "config": Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=10,
            read_timeout=30,
        ),
    }
    if access_key is not None:
        options["aws_access_key_id"] = access_key
        options["aws_secret_access_key"] = secret_key or ""
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    # A session of its own: boto3's default session keeps the credentials it found first, so a
    # client made later would miss a rotated key or a changed environment.
    return boto3.session.Session().client("events", **options)
