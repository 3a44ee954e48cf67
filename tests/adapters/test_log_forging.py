"""Issue 18, item 4: wire values cannot forge log lines, whatever the logging configuration.

A ``ce-subject`` or ``ce-id`` with a percent-encoded line break (``%0A``), or a handler's
exception text with one, used to reach the router's error line as is, so under a user's own
plain ``logging.Formatter`` one request wrote a line of its choosing into the log. The values
from the wire are escaped in the records' messages now; the SDK's own text format escapes the
whole line as well (``tests/test_logging.py``) and JSON escapes by construction.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from _drive import wsgi_request

from veba_sdk import Router
from veba_sdk.adapters import aws_lambda, knative, openfaas

FORGED = "2026-12-05T00:00:00.000Z ERROR veba_sdk: FORGED"
BREAKS = ["%0A", "%0D", "%0D%0A", "%C2%85", "%E2%80%A8", "%1B[2K"]


@pytest.fixture
def user_log() -> Iterator[io.StringIO]:
    """The ``veba_sdk`` records through a plain Formatter of the user's own, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    sdk = logging.getLogger("veba_sdk")
    saved = (sdk.handlers[:], sdk.propagate, sdk.level)
    sdk.handlers, sdk.propagate = [handler], False
    sdk.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        sdk.handlers, sdk.propagate = saved[0], saved[1]
        sdk.setLevel(saved[2])


def _records(buffer: io.StringIO) -> list[str]:
    """The lines written, without tracebacks (which are multi-line in any plain format)."""
    lines = buffer.getvalue().split("\n")
    return [line for line in lines if line.startswith(("ERROR ", "WARNING ", "DEBUG ", "INFO "))]


def _failing_router(message: str = "bad value") -> Router:
    router = Router()

    @router.default
    def boom(event: object, ctx: object) -> None:
        raise RuntimeError(message)

    return router


def _headers(subject: str, event_id: str) -> list[tuple[str, str]]:
    return [
        ("ce-specversion", "1.0"),
        ("ce-id", event_id),
        ("ce-source", "https://vc01/sdk"),
        ("ce-type", "com.vmware.event.router/event"),
        ("ce-subject", subject),
        ("content-type", "application/json"),
    ]


@pytest.mark.parametrize("line_break", BREAKS)
def test_router_error_line_under_a_users_formatter(user_log: io.StringIO, line_break: str) -> None:
    app = knative.wsgi(_failing_router())
    headers = _headers(f"VmPoweredOnEvent{line_break}{FORGED}", f"7{line_break}{FORGED}-id")
    status, _, _ = wsgi_request(app, "POST", "/", headers, b'{"Key": 1}')
    text = user_log.getvalue()
    assert "failed for event" in text
    # Each record is one line: no line the request chose begins anywhere in the output.
    for line in text.splitlines():
        assert not line.startswith(FORGED), text
    records = _records(user_log)
    assert len(records) == 1, text
    assert records[0].startswith("ERROR veba_sdk: handler "), records
    assert " failed for event VmPoweredOnEvent" in records[0], records
    assert status in (400, 500)  # 400 where the name is refused, 500 where the handler ran


def test_a_handlers_exception_text_is_escaped_in_the_message(user_log: io.StringIO) -> None:
    """The message line is escaped; the traceback a plain Formatter appends (exc_info, kept
    for error trackers) prints the exception as it is: that part is the handler's own text."""
    app = knative.wsgi(_failing_router(f"bad value\n{FORGED}-from-the-exception"))
    status, _, _ = wsgi_request(app, "POST", "/", _headers("VmPoweredOnEvent", "1"), b"{}")
    assert status == 500
    message = user_log.getvalue().splitlines()[0]
    assert message.endswith(f"RuntimeError: bad value\\n{FORGED}-from-the-exception"), message


def test_openfaas_rejection_line(user_log: io.StringIO) -> None:
    handle = openfaas.classic_handler(
        Router(), environ={"Http_Ce_Specversion": "1.0\n" + FORGED, "Http_Method": "POST"}
    )
    handle("{}")
    for line in user_log.getvalue().splitlines():
        assert not line.startswith(FORGED), user_log.getvalue()


def test_lambda_sqs_lines(user_log: io.StringIO) -> None:
    router = _failing_router()
    lambda_handler = aws_lambda.handler(router)
    good = {
        "specversion": "1.0",
        "id": f"9\n{FORGED}-id",
        "source": "https://vc01/sdk",
        "type": "com.vmware.event.router/event",
        "subject": "VmPoweredOnEvent",
        "data": {"Key": 1},
    }
    records = [
        {"messageId": f"m1\n{FORGED}-mid", "eventSource": "aws:sqs", "body": json.dumps(good)},
        {"messageId": f"m2\r{FORGED}-mid", "eventSource": "aws:sqs", "body": "not json"},
    ]
    answer = lambda_handler({"Records": records}, None)
    assert answer is not None
    assert len(answer["batchItemFailures"]) == 2
    text = user_log.getvalue()
    for line in text.splitlines():
        assert not line.startswith(FORGED), text
    assert len(_records(user_log)) == 3, text  # the handler's failure, and one per message
