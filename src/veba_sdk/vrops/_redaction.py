"""Keeping secrets out of text: the :class:`Redactor` and the httpx/httpcore log scrubber."""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Iterable

__all__ = ["Redactor", "secret_forms"]


def _encodings(text: str) -> tuple[str, ...]:
    """``text`` as a server may echo it once more: URL-encoded (path, form, query) and
    JSON-escaped (ASCII-only or not)."""
    quote = urllib.parse.quote
    return (
        quote(text, safe=""),
        quote(text),
        urllib.parse.quote_plus(text),
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
    )


def secret_forms(secret: str) -> set[str]:
    """Every form of ``secret`` a server echoing its input may send back: raw, and one or two
    encodings deep (a JSON body quoted in JSON, a URL-encoded JSON body, ...)."""
    forms = {secret}
    for once in _encodings(secret):
        forms.add(once)
        forms.update(_encodings(once))
    return forms


class Redactor:
    """Removes known secrets from text (server messages may echo input), in every form
    :func:`secret_forms` gives, hex digits of percent-escapes in either case.

    Every live redactor also scrubs the log records of httpx (its ``HTTP Request`` INFO line
    carries the server's reason phrase) and httpcore (its DEBUG lines carry response headers).
    """

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        self._secrets = secrets
        self._pattern: tuple[tuple[str, ...], re.Pattern[str] | None] = ((), None)
        _LogScrubber.register(self)

    def _compiled(self) -> re.Pattern[str] | None:
        secrets = tuple(s for s in self._secrets() if s and len(s) >= 3)
        known, pattern = self._pattern
        if secrets != known:
            forms = {form for secret in secrets for form in secret_forms(secret)}
            # Longest first, so a form inside a longer one never leaves the rest behind.
            ordered = sorted(forms, key=len, reverse=True)
            alternatives = "|".join(map(re.escape, ordered))
            pattern = re.compile(alternatives, re.IGNORECASE) if forms else None
            self._pattern = (secrets, pattern)
        return pattern

    def __call__(self, text: str) -> str:
        pattern = self._compiled()
        return text if pattern is None else pattern.sub("***", text)

    def __repr__(self) -> str:
        return "Redactor(***)"


class _LogScrubber(logging.Filter):
    """Scrubs the secrets of every live :class:`Redactor` from httpx's and httpcore's records.

    Attached once to the loggers those libraries write to; a filter on a logger runs only for
    records that logger emits at an enabled level, so it costs nothing while they are quiet.
    """

    LOGGERS = (
        "httpx",
        "httpcore.connection",
        "httpcore.http11",
        "httpcore.http2",
        "httpcore.proxy",
    )
    _installed: _LogScrubber | None = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
        self.redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()

    @classmethod
    def register(cls, redactor: Redactor) -> None:
        with cls._guard:
            if cls._installed is None:
                cls._installed = cls()
                for name in cls.LOGGERS:
                    logging.getLogger(name).addFilter(cls._installed)
            cls._installed.redactors.add(redactor)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._guard:
            redactors = list(self.redactors)
        if not redactors:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it, as without us
            return True
        clean = message
        for redact in redactors:
            clean = redact(clean)
        if clean != message:
            record.msg, record.args = clean, None
        return True
