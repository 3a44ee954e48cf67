"""veba_sdk.logging in-process: setup's decisions, the formats, and the correlation fields.

The platforms' real commands are in tests/adapters/test_logging_platforms.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import veba_sdk.logging as veba_logging
from veba_sdk import Context, Router, _router
from veba_sdk._context import handler_context
from veba_sdk.logging import (
    JsonFormatter,
    StdoutHandler,
    TextFormatter,
    formatter,
    one_line,
    setup,
)
from veba_sdk.testing import make_event, to_cloudevent

SDK = logging.getLogger("veba_sdk")
ROOT = logging.getLogger()
#: Everything Python's str.splitlines (and so most log readers) takes for a line break.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@pytest.fixture
def bare_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process with no logging configured (as under uvicorn), put back afterwards."""
    saved = (
        list(ROOT.handlers), ROOT.level, list(SDK.handlers), SDK.level, SDK.propagate,
        _router._correlate, veba_logging._reported,
    )  # fmt: skip
    SDK.handlers.clear()
    SDK.setLevel(logging.NOTSET)
    SDK.propagate = True
    _router._correlate = False
    veba_logging._reported = False
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.delenv("VEBA_LOG_FORMAT", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_LOG_FORMAT", raising=False)
    try:
        yield
    finally:
        ROOT.handlers[:] = [h for h in saved[0] if h in ROOT.handlers or not _pytests(h)]
        ROOT.setLevel(saved[1])
        SDK.handlers[:] = saved[2]
        SDK.setLevel(saved[3])
        SDK.propagate = saved[4]
        _router._correlate = saved[5]
        veba_logging._reported = saved[6]


def _pytests(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")


def _bare() -> None:
    """No root handlers, as under uvicorn. Called in the test body: pytest adds its capture
    handler for the call phase after the fixtures ran (and removes it itself)."""
    ROOT.handlers.clear()


def _envelope(subject: str | None = None) -> object:
    headers, body = to_cloudevent(
        make_event("EnteredMaintenanceModeEvent", host__name="esx42"), "vsphere-source"
    )
    if subject is not None:
        headers["ce-subject"] = subject
    from veba_sdk import decode_http

    return decode_http(headers, body)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


# -- setup's decisions -----------------------------------------------------------------------


@pytest.mark.usefixtures("bare_logging")
def test_nothing_configured_gets_one_stdout_handler(capsys: pytest.CaptureFixture[str]) -> None:
    _bare()
    handler = setup()
    assert isinstance(handler, StdoutHandler)
    assert isinstance(handler.formatter, TextFormatter)
    assert setup() is handler  # idempotent: every adapter factory calls it
    assert SDK.handlers == [handler]
    assert SDK.level == logging.INFO
    assert SDK.propagate is False
    logging.getLogger("veba_sdk.vrops").info("retrying %s", "esx01")
    SDK.debug("not shown at INFO")
    (line,) = _lines(capsys)
    assert line.endswith(" INFO veba_sdk.vrops: retrying esx01")
    assert line[:24].endswith("Z")
    assert line[10] == "T"


@pytest.mark.usefixtures("bare_logging")
def test_a_root_handler_added_later_prints_nothing_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _bare()
    setup()
    logging.basicConfig(stream=sys.stdout)  # what waitress.serve() does after the import
    SDK.warning("once")
    assert len([line for line in _lines(capsys) if "once" in line]) == 1


@pytest.mark.usefixtures("bare_logging")
def test_users_root_config_is_left_alone(capsys: pytest.CaptureFixture[str]) -> None:
    _bare()
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="USER %(message)s")
    assert setup() is None
    assert SDK.handlers == []
    assert SDK.level == logging.NOTSET
    assert SDK.propagate is True
    SDK.info("hidden: the user chose WARNING")
    SDK.warning("shown")
    assert _lines(capsys) == ["USER shown"]


@pytest.mark.usefixtures("bare_logging")
def test_log_level_applies_under_the_users_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare()
    logging.basicConfig(stream=sys.stdout, format="USER %(message)s")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert setup() is None
    assert SDK.level == logging.DEBUG
    SDK.debug("detail")
    assert _lines(capsys) == ["USER detail"]


@pytest.mark.usefixtures("bare_logging")
def test_handlers_on_the_sdk_logger_are_left_alone() -> None:
    _bare()
    own = logging.NullHandler()
    SDK.addHandler(own)
    assert setup() is None
    assert SDK.handlers == [own]


@pytest.mark.usefixtures("bare_logging")
@pytest.mark.parametrize(
    ("value", "level"),
    [("WARNING", logging.WARNING), ("warn", logging.WARNING), ("TRACE", logging.DEBUG),
     ("Error", logging.ERROR), ("fatal", logging.CRITICAL), ("15", 15)],
)  # fmt: skip
def test_log_level_names(monkeypatch: pytest.MonkeyPatch, value: str, level: int) -> None:
    _bare()
    monkeypatch.setenv("LOG_LEVEL", value)
    setup()
    assert SDK.level == level


@pytest.mark.usefixtures("bare_logging")
def test_explicit_level_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _bare()
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    setup(level="DEBUG")
    assert SDK.level == logging.DEBUG
    setup(level=logging.WARNING)  # a later explicit level still applies
    assert SDK.level == logging.WARNING


@pytest.mark.usefixtures("bare_logging")
def test_bad_level_argument_is_a_one_line_error() -> None:
    _bare()
    with pytest.raises(ValueError, match=r"^level 'loud' is not a log level \(DEBUG, INFO"):
        setup(level="loud")


@pytest.mark.usefixtures("bare_logging")
def test_unreadable_settings_are_reported_once_and_defaults_used(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare()
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    monkeypatch.setenv("VEBA_LOG_FORMAT", "yaml")
    handler = setup()
    setup()
    assert handler is not None
    assert isinstance(handler.formatter, TextFormatter)
    assert SDK.level == logging.INFO
    out = _lines(capsys)
    assert len(out) == 2
    assert out[0].endswith(
        "WARNING veba_sdk: LOG_LEVEL 'verbose' is not a log level "
        "(DEBUG, INFO, WARNING, ERROR or CRITICAL); using INFO"
    )
    assert out[1].endswith("WARNING veba_sdk: VEBA_LOG_FORMAT 'yaml' is neither json nor text; "
                           "using text")  # fmt: skip


@pytest.mark.usefixtures("bare_logging")
def test_json_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare()
    monkeypatch.setenv("VEBA_LOG_FORMAT", "JSON")
    handler = setup()
    assert handler is not None
    assert isinstance(handler.formatter, JsonFormatter)
    SDK.info("hello %s", "world", extra={"host": "esx01"})
    record = json.loads(capsys.readouterr().out)
    assert record["message"] == "hello world"
    assert record["level"] == "INFO"
    assert record["logger"] == "veba_sdk"
    assert record["host"] == "esx01"
    assert "event_id" not in record  # no handler running


@pytest.mark.usefixtures("bare_logging")
def test_formatter_for_handlers_of_ones_own(monkeypatch: pytest.MonkeyPatch) -> None:
    _bare()
    assert isinstance(formatter(), TextFormatter)
    assert isinstance(formatter(json=True), JsonFormatter)
    monkeypatch.setenv("VEBA_LOG_FORMAT", "json")
    assert isinstance(formatter(), JsonFormatter)
    assert isinstance(formatter(json=False), TextFormatter)


@pytest.mark.usefixtures("bare_logging")
def test_handler_follows_a_redirected_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    _bare()
    import io

    setup()
    redirected = io.StringIO()
    saved, sys.stdout = sys.stdout, redirected
    try:
        SDK.warning("redirected")
    finally:
        sys.stdout = saved
    assert "redirected" in redirected.getvalue()
    assert "redirected" not in capsys.readouterr().out


# -- one line per record -----------------------------------------------------------------------


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("veba_sdk", logging.ERROR, __file__, 1, message, args, exc_info)


@pytest.mark.parametrize("breaker", list(LINE_BREAKS))
def test_every_line_break_is_escaped(breaker: str) -> None:
    text = TextFormatter().format(_record("a%sb", breaker))
    assert len(text.splitlines()) == 1
    assert breaker not in text
    line = JsonFormatter().format(_record("a%sb", breaker))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["message"] == f"a{breaker}b"


def test_tracebacks_stay_on_one_line() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError as exc:
        error = exc
    text = TextFormatter().format(_record("failed", exc=error))
    assert len(text.splitlines()) == 1
    assert "failed\\nTraceback (most recent call last):\\n" in text
    line = JsonFormatter().format(_record("failed", exc=error))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["exception"].endswith("ValueError: bad\nvalue")


def test_printable_text_is_kept_as_is() -> None:
    text = "esx01 entered maintenance mode\tok ü"
    assert one_line(text) == text
    assert one_line("a\x00b\x7fc") == "a\\x00b\\x7fc"


@given(st.text())
def test_any_message_is_one_line(message: str) -> None:
    assert len(TextFormatter().format(_record("%s", message)).splitlines()) == 1
    line = JsonFormatter().format(_record("%s", message))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["message"] == message


# -- correlation fields ------------------------------------------------------------------------

CORRELATION = {"event_id", "event_type", "event_subject", "event_source", "event", "handler"}


def _router_logging_from(names: list[str]) -> Router:
    router = Router()
    other = logging.getLogger("veba_sdk.user")

    @router.on("EnteredMaintenanceModeEvent")
    def plain(event: object, ctx: Context) -> None:
        ctx.logger.info("from ctx", extra={"host": "esx42"})
        other.info("from another logger")
        names.append("plain")

    @router.on("EnteredMaintenanceModeEvent")
    async def coroutine(event: object) -> None:
        other.info("from an async handler")
        names.append("coroutine")

    return router


@pytest.mark.usefixtures("bare_logging")
@pytest.mark.parametrize("how", ["dispatch", "dispatch_async", "dispatch_async_no_threads"])
def test_json_records_carry_the_event_while_a_handler_runs(
    how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare()
    setup(json=True)
    names: list[str] = []
    router = _router_logging_from(names)
    envelope = _envelope("esx-a%0Aforged")
    if how == "dispatch":
        result = router.dispatch(envelope)
    else:
        router.sync_handlers_in_thread = how == "dispatch_async"
        result = asyncio.run(router.dispatch_async(envelope))
    assert result.ok
    assert names == ["plain", "coroutine"]
    SDK.info("after the handlers")
    records = [json.loads(line) for line in _lines(capsys)]
    assert [r["message"] for r in records] == [
        "from ctx", "from another logger", "from an async handler", "after the handlers",
    ]  # fmt: skip
    attributes = envelope.attributes  # type: ignore[attr-defined]
    for record, handler in zip(records[:3], ["plain", "plain", "coroutine"], strict=True):
        assert record["handler"] == f"_router_logging_from.<locals>.{handler}"  # its qualname
        assert record["event_id"] == attributes["id"]
        assert record["event_type"] == "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
        assert record["event_subject"] == "esx-a\nforged"
        assert record["event_source"] == attributes["source"]
        assert record["event"] == "EnteredMaintenanceModeEvent"
    assert records[0]["host"] == "esx42"  # the call's own extra is kept
    assert CORRELATION.isdisjoint(records[3])  # the context is reset after each handler


@pytest.mark.usefixtures("bare_logging")
def test_failures_are_logged_with_the_event(capsys: pytest.CaptureFixture[str]) -> None:
    _bare()
    setup(json=True)
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def broken(event: object) -> None:
        raise RuntimeError("vROps said no")

    assert not router.dispatch(_envelope()).ok
    (record,) = (json.loads(line) for line in _lines(capsys))
    assert record["level"] == "ERROR"
    assert record["handler"] == "test_failures_are_logged_with_the_event.<locals>.broken"
    assert record["exception"].endswith("RuntimeError: vROps said no")


@pytest.mark.usefixtures("bare_logging")
def test_text_format_notes_nothing_per_handler() -> None:
    # Without a JSON formatter the router sets no context variable: nothing per event.
    _bare()
    setup(json=False)
    seen: list[object] = []
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def look(event: object) -> None:
        seen.append(handler_context.get())

    router.dispatch(_envelope())
    assert seen == [None]
    assert _router._correlate is False


@pytest.mark.usefixtures("bare_logging")
def test_ctx_logger_fields_without_correlation(capsys: pytest.CaptureFixture[str]) -> None:
    # A user's own formatter reads ctx.logger's fields as record attributes.
    _bare()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(event)s %(event_id)s %(event_subject)s %(message)s"))
    SDK.addHandler(handler)
    SDK.setLevel(logging.INFO)
    router = Router()

    @router.on("EnteredMaintenanceModeEvent")
    def note(event: object, ctx: Context) -> None:
        ctx.logger.info("noted")

    envelope = _envelope("host-19")
    router.dispatch(envelope)
    attributes = envelope.attributes  # type: ignore[attr-defined]
    assert _lines(capsys) == [f"EnteredMaintenanceModeEvent {attributes['id']} host-19 noted"]


def test_router_format_fields() -> None:
    # The fields are the envelope's attributes, whichever producer's shape it came in.
    from veba_sdk import decode_http

    headers, body = to_cloudevent(make_event("EnteredMaintenanceModeEvent"), "router", "structured")
    envelope = decode_http(headers, body)
    token = handler_context.set((envelope, "h"))
    try:
        fields = veba_logging.correlation(_record("x"))
    finally:
        handler_context.reset(token)
    assert fields["event_subject"] == "EnteredMaintenanceModeEvent"
    assert fields["event_type"] == "com.vmware.event.router/event"
    assert fields["event"] == "EnteredMaintenanceModeEvent"
    assert fields["handler"] == "h"


# -- a platform runtime's root handler ---------------------------------------------------------


@pytest.fixture
def lambda_runtime_logging(monkeypatch: pytest.MonkeyPatch) -> Any:
    """awslambdaric's own logging setup, as its bootstrap runs it before importing the module
    (``log_level`` given: what ``AWS_LAMBDA_LOG_LEVEL`` becomes)."""
    bootstrap = pytest.importorskip("awslambdaric.bootstrap")
    from awslambdaric.lambda_runtime_log_utils import LogFormat

    monkeypatch.setattr(logging.Formatter, "converter", logging.Formatter.converter)

    def start(log_level: str | None = None) -> None:
        _bare()
        bootstrap._setup_logging(LogFormat.TEXT, log_level, bootstrap.StandardLogSink())

    return start


@pytest.mark.usefixtures("bare_logging")
def test_lambda_runtime_handler_is_used_once_at_info(
    lambda_runtime_logging: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_runtime_logging()
    assert setup() is None  # the runtime's handler prints it; a second one would repeat it
    assert SDK.handlers == []
    assert SDK.level == logging.INFO  # the runtime leaves the root logger at WARNING
    SDK.info("marked")
    (line,) = _lines(capsys)
    assert line.startswith("[INFO]\t")
    assert line.endswith("\tmarked")


@pytest.mark.usefixtures("bare_logging")
def test_lambda_log_level_setting_is_the_runtimes(
    lambda_runtime_logging: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "ERROR")
    lambda_runtime_logging("ERROR")
    setup()
    assert SDK.level == logging.NOTSET  # inherits the root's ERROR, as the function asked
    assert SDK.getEffectiveLevel() == logging.ERROR
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    setup()
    assert SDK.level == logging.DEBUG  # LOG_LEVEL, when set, still wins


@pytest.mark.usefixtures("bare_logging")
def test_json_under_the_lambda_runtime_is_the_sdks_own_once(
    lambda_runtime_logging: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_runtime_logging()
    handler = setup(json=True)
    assert isinstance(handler, StdoutHandler)
    assert SDK.propagate is False
    SDK.info("marked")
    (line,) = _lines(capsys)
    assert json.loads(line)["message"] == "marked"
