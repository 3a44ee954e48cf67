"""Handler log lines on stdout, one line per record, on every platform.

Every adapter factory calls :func:`setup` once, when it is made. What it does depends on the
logging the process already has:

* Nothing configured (uvicorn, gunicorn, waitress, functions-framework, a plain script: none
  of them configures the root logger): a handler writing one line per record to stdout goes on
  the ``veba_sdk`` logger (so ``ctx.logger`` and the SDK's own records show), at ``LOG_LEVEL``
  (default ``INFO``), in the format ``VEBA_LOG_FORMAT`` names (``text``, the default, or
  ``json``). The logger stops propagating, so a root handler added later (``waitress.serve``
  calls ``logging.basicConfig()``) does not print each line a second time.
* The root or the ``veba_sdk`` logger has handlers already (the user's
  ``logging.basicConfig(...)``, a ``--log-config``): they are left as they are; only an
  explicit level (``level=`` or ``LOG_LEVEL``) is set on the ``veba_sdk`` logger.
* A platform runtime's root handler (AWS Lambda's runtime, functions-framework with
  ``LOG_EXECUTION_ID``): lines go through it, once, with the ``veba_sdk`` logger at ``INFO``
  (the root logger there is at ``WARNING``) unless ``LOG_LEVEL`` or ``AWS_LAMBDA_LOG_LEVEL``
  says otherwise. ``VEBA_LOG_FORMAT=json`` there puts the SDK's JSON handler on the
  ``veba_sdk`` logger instead, still once.

A text line is ``2026-11-25T20:50:01.123Z INFO veba_sdk: message``; control characters and
line separators in it (a subject with an encoded newline, a traceback) are escaped
(``\\n``), so a record is always one line and a value from the wire cannot forge another.
A JSON line is one object; while a handler runs, every record carries the event's
``event_id``, ``event_type``, ``event_subject``, ``event_source``, ``event`` (its name) and
``handler``, as Powertools' Logger adds its correlation ids.

Nothing here runs per request: the handler and formatters work only when a record is emitted.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from . import _router
from ._context import handler_context

__all__ = [
    "FORMAT_ENV",
    "LEVEL_ENV",
    "JsonFormatter",
    "StdoutHandler",
    "TextFormatter",
    "correlation",
    "formatter",
    "one_line",
    "setup",
]

#: The environment variable naming the level of the ``veba_sdk`` logger.
LEVEL_ENV = "LOG_LEVEL"
#: The environment variable choosing the line format: ``json`` or ``text``.
FORMAT_ENV = "VEBA_LOG_FORMAT"

_LOGGER_NAME = "veba_sdk"
_LEVELS = {
    "TRACE": logging.DEBUG,  # AWS Lambda's names too
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "CRITICAL": logging.CRITICAL,
}
_FORMATS = {"json": True, "text": False}

# Control characters (tab aside) and everything Python or a log reader takes for a line break,
# as visible escapes.
_ESCAPES: dict[int, str] = {c: f"\\x{c:02x}" for c in range(0x20) if c != 0x09}
_ESCAPES.update({0x0A: "\\n", 0x0D: "\\r", 0x7F: "\\x7f", 0x85: "\\x85"})
_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029"})
# JSON escapes control characters itself; these three are valid in a JSON string but split
# lines for some readers.
_JSON_ESCAPES = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}

#: The attributes every LogRecord has; the others are a record's ``extra`` fields.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_reported = False  # unreadable settings are reported once, not by every factory
_CORRELATION = ("event_id", "event_type", "event_subject", "event_source", "event", "handler")


def one_line(text: str) -> str:
    """``text`` with control characters and line separators escaped: always one line."""
    # isprintable is a C loop over the string: most lines take only this test.
    return text if text.isprintable() else text.translate(_ESCAPES)


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message>``, escaped to one line (tracebacks too)."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of text."""
        return one_line(f"{_timestamp(record)} {super().format(record)}")


def correlation(record: logging.LogRecord) -> dict[str, Any]:
    """The event a record was emitted for: the running handler's, else ``ctx.logger``'s."""
    current = handler_context.get()
    if current is not None:
        envelope, handler = current
        attributes = envelope.attributes
        return {
            "event_id": attributes.get("id"),
            "event_type": attributes.get("type"),
            "event_subject": attributes.get("subject"),
            "event_source": attributes.get("source"),
            "event": envelope.name,
            "handler": handler,
        }
    fields = record.__dict__
    return {key: fields[key] for key in _CORRELATION if key in fields}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``, ``message``, the event's
    correlation fields while a handler runs, the record's ``extra`` fields, and ``exception``.

    Making one turns the correlation on: from then on the router notes, for each handler it
    runs, which event and handler it is (one context variable; nothing without a formatter).
    Use it in your own logging configuration to get these lines through your handlers.
    """

    def __init__(self) -> None:
        super().__init__()
        _router.correlate_records()

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        import json

        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(correlation(record))
        if "opentelemetry.trace" in sys.modules:  # the current span's ids (veba_sdk.tracing)
            from .tracing import log_fields

            line.update(log_fields())
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        text = json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":"))
        return text if text.isascii() else text.translate(_JSON_ESCAPES)


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to the current ``sys.stdout`` (looked up per record, so a later
    redirection, such as functions-framework's, is followed) and flushes it: a pipe to a log
    collector gets every line as it happens."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """The stream is always ``sys.stdout``: ``setStream`` has nothing to change."""


def _parse_level(value: int | str, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().upper()
    if text.isdigit():
        return int(text)
    if text in _LEVELS:
        return _LEVELS[text]
    raise ValueError(
        f"{what} {value!r} is not a log level (DEBUG, INFO, WARNING, ERROR or CRITICAL)"
    )


def _platform_root_handlers(handlers: list[logging.Handler]) -> bool:
    """Whether the root handlers are a platform runtime's rather than the user's."""
    for handler in handlers:
        kind = type(handler)
        if kind.__name__.startswith("LambdaLoggerHandler"):  # awslambdaric, managed runtime
            return True
        stream = getattr(handler, "stream", None)
        if type(stream).__module__.startswith("functions_framework"):
            return True  # functions-framework's LOG_EXECUTION_ID configuration
        if type(stream).__module__.startswith("werkzeug") and "functions_framework" in sys.modules:
            return True  # the same, through its lazy stream proxy
    return False


def _environment(env: Mapping[str, str]) -> tuple[int | None, bool | None, list[str]]:
    """``LOG_LEVEL`` and ``VEBA_LOG_FORMAT`` as read, and a reason for each unreadable one."""
    problems = []
    level = None
    raw_level = env.get(LEVEL_ENV, "").strip()
    if raw_level:
        try:
            level = _parse_level(raw_level, LEVEL_ENV)
        except ValueError as exc:
            problems.append(f"{exc}; using INFO")
    json = None
    raw_format = env.get(FORMAT_ENV, "").strip().lower()
    if raw_format:
        json = _FORMATS.get(raw_format)
        if json is None:
            problems.append(f"{FORMAT_ENV} {raw_format!r} is neither json nor text; using text")
    return level, json, problems


def formatter(json: bool | None = None) -> logging.Formatter:
    """The formatter :func:`setup` uses: JSON lines if ``json`` (``None``: ``VEBA_LOG_FORMAT``
    says), else text lines. For handlers of your own (``veba serve`` uses it on stderr)."""
    if json is None:
        json = _environment(os.environ)[1]
    return JsonFormatter() if json else TextFormatter()


def setup(level: int | str | None = None, json: bool | None = None) -> logging.Handler | None:
    """Make handler log lines visible on stdout, unless the process configured logging itself.

    Safe to call any number of times (each adapter factory calls it once): the first call
    that installs a handler is the only one that does.

    Args:
        level: the ``veba_sdk`` logger's level (a name such as ``"DEBUG"`` or a number);
            ``None`` reads ``LOG_LEVEL``, else ``INFO``.
        json: one JSON object per line (``True``) or text (``False``); ``None`` reads
            ``VEBA_LOG_FORMAT`` (``json`` or ``text``), else text.

    Returns:
        The handler writing to stdout, or ``None`` when the logging already configured
        shows the lines (see the module's documentation for each case).

    Raises:
        ValueError: ``level`` is no log level. An unreadable ``LOG_LEVEL`` or
            ``VEBA_LOG_FORMAT`` is reported in one log line instead, and the default used.
    """
    chosen = None if level is None else _parse_level(level, "level")
    env_level, env_json, problems = _environment(os.environ)
    if chosen is None:
        chosen = env_level
    if json is None:
        json = env_json
    sdk = logging.getLogger(_LOGGER_NAME)
    for handler in sdk.handlers:
        if isinstance(handler, StdoutHandler):  # installed by an earlier call
            if level is not None and chosen is not None:
                sdk.setLevel(chosen)
            return handler
    root = logging.getLogger()
    installed: logging.Handler | None = None
    if sdk.handlers:
        pass  # the user's handlers on our logger: theirs to run
    elif not root.handlers or (json and _platform_root_handlers(root.handlers)):
        installed = StdoutHandler()
        installed.setFormatter(JsonFormatter() if json else TextFormatter())
        sdk.addHandler(installed)
        sdk.propagate = False  # a root handler added later would print every line again
        if chosen is None and sdk.level == logging.NOTSET:
            chosen = _lambda_level() or logging.INFO
    elif _platform_root_handlers(root.handlers):
        if (
            chosen is None
            and sdk.level == logging.NOTSET
            and _lambda_level() is None
            and not logging.NOTSET < root.level <= logging.INFO
        ):
            chosen = logging.INFO  # the platform's root logger is at WARNING
        if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").strip().upper() == "JSON":
            _router.correlate_records()  # the runtime's JSON shows ctx.logger's fields
    if chosen is not None:
        sdk.setLevel(chosen)
    global _reported
    if not _reported:
        _reported = True
        for problem in problems:
            sdk.warning("%s", problem)
    return installed


def _lambda_level() -> int | None:
    """The level AWS Lambda's ``AWS_LAMBDA_LOG_LEVEL`` sets (its runtime applies it to the
    root logger), or ``None``."""
    value = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").strip()
    if not value:
        return None
    try:
        return _parse_level(value, "AWS_LAMBDA_LOG_LEVEL")
    except ValueError:
        return None
