"""AWS Lambda: vCenter events from VEBA's EventBridge processor, direct or through SQS.

VEBA's event router (``vmware-event-router/internal/processor/aws_event_bridge.go``) sends one
``PutEvents`` entry per vCenter event::

    Source       = the CloudEvent source (the vCenter SDK URL, "https://vc01/sdk")
    DetailType   = the CloudEvent subject (the event name, "VmPoweredOnEvent")
    Detail       = the whole structured CloudEvent as JSON
    EventBusName = the bus of the matching rule (rules filter on detail.subject)

so a Lambda target receives ``{"version": "0", "id": ..., "detail-type": "VmPoweredOnEvent",
"source": "https://vc01/sdk", "time": ..., "detail": {"specversion": "1.0", "id": ...,
"type": "com.vmware.event.router/event", "subject": "VmPoweredOnEvent", "data": {...}}}``.

:func:`handler` returns a ``lambda_handler(event, context)`` that accepts, by cheap key checks:

* an EventBridge event whose ``detail`` is a structured CloudEvent (the processor's shape);
* an EventBridge event whose ``detail`` is a bare vCenter event (an input transformer or a
  custom producer): the name comes from ``detail-type``, the CloudEvent attributes are made up
  from the EventBridge envelope;
* a structured CloudEvent on its own (an input transformer of ``$.detail``, the test console);
* an SQS batch (``Records`` with ``eventSource: aws:sqs``) whose message bodies are any of the
  above as JSON, answered with ``{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}``
  naming each record that could not be decoded or whose handlers failed. Enable
  ``ReportBatchItemFailures`` on the event source mapping so only those are retried.

Status policy (the same as every adapter's): input that is no vCenter event raises
:class:`~veba_sdk.InvalidEvent`, so the platform's retries and dead-letter queue keep it; a
handler that raised makes the invocation raise :class:`~veba_sdk.HandlerError` so EventBridge
(or the async invoke queue) retries it; an event no route selects is acknowledged.

This module imports nothing beyond the standard library and veba-sdk's core, so a Lambda cold
start pays only for what it uses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._errors import ConfigError, InvalidEvent
from ..events import Envelope, from_cloudevent, is_event_class
from ..events.http import loads_json, structured_parts
from ..logging import one_line
from ..logging import setup as setup_logging
from ..wire import JSON_MEDIA_TYPE, VSPHERE_TYPE_PREFIX, router_type

if TYPE_CHECKING:
    from ..auth import Authenticator
    from ..metrics import EMFMetrics
    from ._runner import Dispatcher  # a type only: Lambda never loads the HTTP pipeline

__all__ = ["LambdaContext", "LambdaFunction", "LambdaHandler", "handler"]

logger = logging.getLogger("veba_sdk.adapters.aws_lambda")

_NO_AUTH = ("", "none", "off")  # VEBA_AUTH values that ask for no check

#: The largest SQS message and the largest EventBridge event are both 256 KiB; allow headroom
#: for direct invocations (6 MB payload limit) but refuse anything absurd.
_MAX_BODY = 6 * 1024 * 1024


@runtime_checkable
class LambdaContext(Protocol):
    """The part of the AWS Lambda context object that veba-sdk relies on.

    The Python runtime passes a ``LambdaContext`` instance; tests may pass any object with
    these members (or ``None``). Handlers see it as ``ctx.platform``.
    """

    @property
    def function_name(self) -> str:
        """The Lambda function's name."""
        ...

    @property
    def aws_request_id(self) -> str:
        """The id of this invocation."""
        ...

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        ...


LambdaHandler = Callable[[Any, "LambdaContext | None"], "dict[str, Any] | None"]


# -- recognise and convert in ------------------------------------------------------------------


def _as_mapping(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` as a JSON object: a mapping as is, JSON text or bytes decoded."""
    if isinstance(value, (str, bytes, bytearray)):
        if len(value) > _MAX_BODY:
            raise InvalidEvent(f"{what} of {len(value)} bytes is over the {_MAX_BODY} byte limit")
        value = loads_json(value, what)
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"{what} must be a JSON object, not {type(value).__name__}", field=what)
    return value


def _category_of_bare(name: str, detail: Mapping[str, Any]) -> str:
    """The event class of a bare vCenter event named ``name`` (class name or type id)."""
    if is_event_class(name):
        return "event"
    if "." not in name:
        from ..events import is_type_id

        if not is_type_id(name):  # a dotless catalogued id ("53001") is an ExtendedEvent
            return "event"
    # ExtendedEvent carries a managed object; EventEx carries an object id and type.
    if "ManagedObject" in detail or "managedObject" in detail:
        return "extendedevent"
    return "eventex"


def _bare_attributes(bridge: Mapping[str, Any], detail: Mapping[str, Any]) -> dict[str, Any]:
    """CloudEvent attributes for a bare vCenter event delivered by EventBridge."""
    name = bridge.get("detail-type")
    if not isinstance(name, str) or not name.strip():
        raise InvalidEvent("missing 'detail-type': cannot name the event", field="detail-type")
    source = bridge.get("source")
    if not isinstance(source, str) or not source:
        raise InvalidEvent("missing 'source'", field="source")
    event_id = bridge.get("id")
    if not isinstance(event_id, str) or not event_id:
        key = detail.get("Key", detail.get("key"))
        if isinstance(key, bool) or not isinstance(key, (int, str)) or key == "":
            raise InvalidEvent("missing 'id'", field="id")
        event_id = str(key)
    attributes: dict[str, Any] = {"specversion": "1.0", "id": event_id, "source": source}
    if name.startswith(VSPHERE_TYPE_PREFIX):
        attributes["type"] = name
    else:
        attributes["type"] = router_type(_category_of_bare(name, detail))
        attributes["subject"] = name
    time = bridge.get("time")
    if isinstance(time, str) and time:
        attributes["time"] = time
    attributes["datacontenttype"] = JSON_MEDIA_TYPE
    return attributes


def _structured(obj: Mapping[str, Any]) -> Envelope:
    attributes, data, _ = structured_parts(dict(obj))
    return from_cloudevent(attributes, data)


def decode_event(event: Any) -> Envelope:
    """Turn one Lambda input (an EventBridge event or a structured CloudEvent) into an envelope.

    Raises:
        InvalidEvent: the input is no vCenter event in a shape this adapter knows.
    """
    obj = _as_mapping(event, "event")
    if "detail" in obj:
        detail = _as_mapping(obj["detail"], "detail")
        if "specversion" in detail:
            return _structured(detail)
        return from_cloudevent(_bare_attributes(obj, detail), dict(detail))
    if "specversion" in obj:
        return _structured(obj)
    raise InvalidEvent(
        "neither an EventBridge event nor a CloudEvent: no 'detail' or 'specversion'"
    )


def _is_sqs_batch(event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and isinstance(records[0], Mapping)
        and records[0].get("eventSource") == "aws:sqs"
    )


def _message_ids(records: list[Any]) -> list[str]:
    """Every record's ``messageId``, checked before any handler runs.

    A record Lambda cannot name cannot be reported alone, so such a batch is refused whole
    (nothing has run yet, so nothing runs twice when it is retried).
    """
    ids = []
    for index, record in enumerate(records):
        message_id = record.get("messageId") if isinstance(record, Mapping) else None
        if not isinstance(message_id, str) or not message_id:
            raise InvalidEvent(f"SQS record {index} has no messageId", field="messageId")
        ids.append(message_id)
    return ids


def _is_fifo(record: Mapping[str, Any]) -> bool:
    arn = record.get("eventSourceARN")
    return isinstance(arn, str) and arn.endswith(".fifo")


# -- the handler ---------------------------------------------------------------------------------


def handler(
    router: Dispatcher, *, metrics: bool | EMFMetrics = False, auth: Authenticator | None = None
) -> LambdaFunction:
    """A Lambda entry point that dispatches VEBA's EventBridge events to ``router``.

    Example (``app.py``; set the function's handler to ``app.lambda_handler``)::

        from veba_sdk import router
        from veba_sdk.adapters.aws_lambda import handler

        @router.on("VmPoweredOnEvent")
        def powered_on(event, ctx): ...

        lambda_handler = handler(router)

    Args:
        router: the router whose handlers serve the events.
        metrics: ``True`` (or an :class:`~veba_sdk.metrics.EMFMetrics`) prints CloudWatch
            Embedded Metric Format lines for every event (:mod:`veba_sdk.metrics`; standard
            library only, like this module).
        auth: must stay ``None`` (and ``VEBA_AUTH`` unset): Lambda invocations carry no HTTP
            request to check; IAM already decides who may invoke the function
            (``lambda:InvokeFunction`` for the EventBridge rule or the SQS mapping's role).
            Passing a check raises :class:`~veba_sdk.ConfigError` rather than ignoring it.

    Returns:
        ``lambda_handler(event, context)``. For an EventBridge (or direct) invocation it
        returns the first ``dict`` a handler returned, else ``None``; for an SQS batch it
        returns ``{"batchItemFailures": [...]}``.

    Raises (from ``lambda_handler``):
        InvalidEvent: a direct invocation that is no vCenter event.
        HandlerError: a handler raised (the other handlers still ran).
    """
    if auth is not None or os.environ.get("VEBA_AUTH", "").strip().lower() not in _NO_AUTH:
        raise ConfigError(
            "Lambda invocations are authenticated by IAM (lambda:InvokeFunction), not by"
            " veba_sdk.auth: drop auth= and VEBA_AUTH"
        )
    setup_logging()
    if metrics:
        from ..metrics import EMFMetrics  # loaded only when asked for

        (EMFMetrics.default() if metrics is True else metrics).observe(router)  # type: ignore[arg-type]

    return LambdaFunction(router)


class LambdaFunction:
    """``lambda_handler(event, context)``: the Lambda entry point :func:`handler` makes.

    Attributes:
        router: the router whose handlers serve the events.
    """

    def __init__(self, router: Dispatcher) -> None:
        self.router = router
        self.__name__ = "lambda_handler"  # what the function's handler setting names

    def __call__(self, event: Any, context: LambdaContext | None = None) -> dict[str, Any] | None:
        """Handle one Lambda invocation (EventBridge event, CloudEvent or SQS batch)."""
        if _is_sqs_batch(event):
            return self.dispatch_batch(event["Records"], context)
        return self.dispatch_one(event, context)

    def dispatch_one(self, event: Any, context: LambdaContext | None) -> dict[str, Any] | None:
        """One EventBridge event or CloudEvent: raises by the status policy, else the first
        ``dict`` a handler returned."""
        envelope = decode_event(event)
        result = self.router.dispatch(envelope, platform_context=context)
        if not result.matched:
            logger.debug(
                "no handler for event %s (id %s)", one_line(envelope.name), one_line(envelope.id)
            )
        result.raise_for_failure()
        for value in result.values:
            if isinstance(value, dict):
                return value
        return None

    def dispatch_batch(self, records: list[Any], context: LambdaContext | None) -> dict[str, Any]:
        """An SQS batch: ``{"batchItemFailures": [...]}`` naming each record to retry."""
        ids = _message_ids(records)
        failures: list[dict[str, str]] = []
        for position, (record, message_id) in enumerate(zip(records, ids, strict=True)):
            if self._record_failed(record, message_id, context):
                if _is_fifo(record):
                    # FIFO order: nothing after a failed message may be acknowledged.
                    failures.extend({"itemIdentifier": i} for i in ids[position:])
                    break
                failures.append({"itemIdentifier": message_id})
        return {"batchItemFailures": failures}

    def _record_failed(self, record: Any, message_id: str, context: LambdaContext | None) -> bool:
        try:
            body = record.get("body")
            envelope = decode_event(body if body is not None else "")
        except InvalidEvent as exc:
            logger.error(
                "SQS message %s is no vCenter event: %s", one_line(message_id), one_line(exc.reason)
            )
            return True
        result = self.router.dispatch(envelope, platform_context=context)
        if not result.ok:
            logger.error(
                "SQS message %s: event %s (id %s) failed in %s",
                one_line(message_id),
                one_line(envelope.name),
                one_line(envelope.id),
                ", ".join(name for name, _ in result.failed),
            )
        return not result.ok

    def __repr__(self) -> str:
        return f"<aws_lambda handler {self.router!r}>"
