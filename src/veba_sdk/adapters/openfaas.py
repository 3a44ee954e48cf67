"""OpenFaaS: the router as the ``handle`` of the python3-http template, or the classic one.

VEBA's OpenFaaS processor POSTs the structured CloudEvent JSON with no content type and
retries on 5xx; ``curl -d @event.json`` sends it as ``application/x-www-form-urlencoded`` and
``faas-cli invoke`` as ``text/plain``. Without ``ce-*`` headers a JSON object body is read as
the structured event whatever ``Content-Type`` says; binary-mode requests (``ce-*`` headers)
follow their content type as the HTTP binding says.

Three steps, as in every adapter: recognise the request (health probe, wrong method, size),
convert it in (one CloudEvent, or a batch), convert the result out with the status policy of
:mod:`veba_sdk.adapters._policy`, as the template's ``{"statusCode", "body", "headers"}``.

python3-http / python3-http-debian (``function/handler.py``)::

    from veba_sdk import on
    from veba_sdk.adapters import openfaas

    @on("VmPoweredOnEvent")
    def powered_on(event, ctx): ...

    handle = openfaas.handler(veba_sdk.router)

Classic watchdog templates (``handle(req)`` returning a string)::

    handle = openfaas.classic_handler(veba_sdk.router)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import HandlerError
from .._router import Router
from ..auth import Authenticator
from ..logging import one_line
from ..logging import setup as setup_logging
from ..wire import DEFAULT_MAX_BODY
from ._runner import Adapter, Request, Runner
from ._wsgi import environ_headers

if TYPE_CHECKING:
    from ..metrics import PrometheusMetrics

__all__ = [
    "DEFAULT_MAX_BODY",
    "ClassicHandler",
    "OpenFaaSContext",
    "OpenFaaSEvent",
    "OpenFaaSHandler",
    "classic_handler",
    "handler",
]

logger = logging.getLogger("veba_sdk.adapters.openfaas")


class OpenFaaSEvent(Protocol):
    """The request the python3-http template's ``index.py`` hands to ``handle``.

    ``headers`` is werkzeug's ``Headers`` there (case-insensitive, iterates as pairs); any
    mapping of header names to values works as well.
    """

    @property
    def body(self) -> bytes | str:
        """The raw request body (``request.get_data()``)."""

    @property
    def headers(self) -> Any:
        """The request headers: a mapping or an iterable of ``(name, value)`` pairs."""

    @property
    def method(self) -> str:
        """The HTTP method."""

    @property
    def path(self) -> str:
        """The request path."""


class OpenFaaSContext(Protocol):
    """The template's context object (it carries ``hostname``); passed on as ``ctx.platform``."""

    @property
    def hostname(self) -> str:
        """The function instance's host name."""


PythonHttpHandle = Callable[[OpenFaaSEvent, Any], dict[str, Any]]
ClassicHandle = Callable[[str], str]


def _header_map(headers: Any) -> dict[str, str]:
    """Lower-cased header names to values, from a mapping, werkzeug ``Headers`` or pairs."""
    if headers is None:
        return {}
    items = headers.items() if callable(getattr(headers, "items", None)) else headers
    return {str(key).lower(): str(value) for key, value in items}


def _structured_whatever_the_type(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether to read ``body`` as a structured CloudEvent, ignoring its ``Content-Type``.

    VEBA's processor posts with no content type, ``curl -d @event.json`` says
    ``application/x-www-form-urlencoded`` and ``faas-cli invoke`` says ``text/plain``: a JSON
    object body is the structured event whatever the type says. A binary-mode request
    (``ce-specversion`` header) keeps its content type, which is its data's.
    """
    if "ce-specversion" in headers or "content-type" not in headers:
        return False
    return body.lstrip()[:1] == b"{"


def _request(
    method: str, path: str, headers: dict[str, str], body: bytes | str, platform: Any
) -> Request:
    """The template's request as the pipeline's :class:`Request`."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    elif not isinstance(body, bytes):
        body = bytes(body)
    decoder_headers = headers
    if _structured_whatever_the_type(headers, body):
        decoder_headers = {k: v for k, v in headers.items() if k != "content-type"}
    request = Request(method.upper(), path or "/", decoder_headers, platform)
    request.body = body
    request.content_type = headers.get("content-type")
    request.auth_headers = headers
    return request


def handler(
    router: Router,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    auth: Authenticator | None = None,
    metrics: bool | PrometheusMetrics = False,
) -> OpenFaaSHandler:
    """``handle(event, context)`` for OpenFaaS's python3-http (and python3-http-debian) template.

    Args:
        router: the router whose handlers serve the events.
        max_body: bodies over this many bytes get 413.
        auth: who may send events (:mod:`veba_sdk.auth`): the gateway leaves
            ``/function/<name>`` open, so set ``BasicAuth`` or ``HMACAuth`` where anything but
            VEBA can reach it. ``None`` reads ``VEBA_AUTH``; unset, every caller is served.
        metrics: ``True`` (or a :class:`~veba_sdk.metrics.PrometheusMetrics`) counts the
            router's events and answers ``GET /metrics`` with them (:mod:`veba_sdk.metrics`).

    Returns:
        a function answering ``{"statusCode": int, "body": str, "headers": dict}`` by the
        status policy: 400 for undecodable input (VEBA does not retry it), 500 when a handler
        raised (VEBA retries), 204/200 otherwise.
    """
    # No broker reads an OpenFaaS function's answer as an event: structured keeps it one text.
    runner = Runner(router, max_body=max_body, reply_mode="structured", auth=auth, metrics=metrics)
    setup_logging()
    return OpenFaaSHandler(runner)


class OpenFaaSHandler(Adapter):
    """The python3-http template's ``handle(event, context)`` (see :func:`handler`)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.__name__ = "handle"  # what the template imports

    def __call__(self, event: OpenFaaSEvent, context: Any = None) -> dict[str, Any]:
        """Handle one OpenFaaS request carrying a VEBA CloudEvent."""
        response = self.runner.serve(
            _request(
                str(getattr(event, "method", "POST") or "POST"),
                str(getattr(event, "path", "/") or "/"),
                _header_map(getattr(event, "headers", None)),
                getattr(event, "body", b"") or b"",
                context,
            )
        )
        return {
            "statusCode": response.status,
            # The template str()s the body: hand it text (replies are structured JSON).
            "body": response.body.decode("utf-8", "replace"),
            "headers": dict(response.headers),
        }

    def __repr__(self) -> str:
        return f"<openfaas handle {self.router!r}>"


def _classic_headers(environ: Mapping[str, str]) -> dict[str, str]:
    """Headers from the classic watchdog's ``Http_*`` environment variables."""
    headers = {}
    for key, value in environ.items():
        if key.startswith("Http_Ce_"):
            headers["ce-" + key[8:].lower().replace("_", "-")] = value
        elif key == "Http_Content_Type":
            headers["content-type"] = value
    return headers


def classic_handler(
    router: Router,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    environ: Mapping[str, str] | None = None,
    auth: Authenticator | None = None,
) -> ClassicHandler:
    """``handle(req: str) -> str`` for OpenFaaS's classic watchdog templates (``python3``).

    The classic watchdog can only answer 200 (``handle`` returned) or 500 (it raised), and
    hands headers over as ``Http_*`` environment variables, which are read for binary mode.

    * A handler failed: raises :class:`~veba_sdk.HandlerError`, so the watchdog answers 500
      and VEBA retries.
    * Undecodable input: logged and returned as a one-line ``"400 <reason>"`` text (answered
      with 200: a retry could never succeed, and VEBA retries 5xx).
    * Otherwise the reply event (structured JSON), the handlers' JSON, or ``""``.

    Args:
        router: the router whose handlers serve the events.
        max_body: bodies over this many bytes are rejected.
        environ: where the ``Http_*`` variables are read (``os.environ`` by default).
        auth: as for :func:`handler`; a refused request raises nothing and returns
            ``"401 <reason>"`` (the watchdog's 200: a retry would be refused again).
    """
    return ClassicHandler(
        Runner(router, max_body=max_body, reply_mode="structured", auth=auth), environ
    )


class ClassicHandler(Adapter):
    """The classic watchdog's ``handle(req) -> str`` (see :func:`classic_handler`)."""

    def __init__(self, runner: Runner, environ: Mapping[str, str] | None = None) -> None:
        self.runner = runner
        self.environ = environ
        self.__name__ = "handle"  # what the template imports

    def __call__(self, req: str) -> str:
        """Handle one classic-watchdog request carrying a VEBA CloudEvent."""
        env = os.environ if self.environ is None else self.environ
        headers = _classic_headers(env)
        if self.runner.auth is not None:  # the check sees every header, Authorization included
            headers = {**environ_headers(env, prefix="Http_"), **headers}
        response = self.runner.serve(
            _request(
                env.get("Http_Method", "POST") or "POST",
                env.get("Http_Path", "/") or "/",
                headers,
                req if isinstance(req, (str, bytes)) else str(req),
                None,
            )
        )
        text = response.body.decode("utf-8", "replace")
        if response.status >= 500:
            raise HandlerError(text.strip())
        if response.status >= 400:
            logger.warning("rejected request: %s %s", response.status, one_line(text.strip()))
            return f"{response.status} {text}"
        return text

    def __repr__(self) -> str:
        return f"<openfaas classic handle {self.router!r}>"
