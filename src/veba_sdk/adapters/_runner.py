"""The one pipeline every HTTP adapter runs, whatever its transport.

An adapter turns its platform's request into a :class:`Request` and hands it to a
:class:`Runner` in up to three steps, so each transport reads no more of the body than it must:

1. :meth:`Runner.head`, before the body is read: health probes, ``GET /metrics``, 405, a sender
   ``auth`` refuses, a declared length over the limit;
2. :meth:`Runner.body`, once the body is read: its size, and a sender check over the body (HMAC);
3. :meth:`Runner.deliver`: decode (one path: a batch, or one event whose ``ce-`` headers the
   transport may have read already), dispatch, and answer by the status policy
   (:mod:`veba_sdk.adapters._policy`).

Each step returns the :class:`~veba_sdk.adapters.response.Response` to send, or ``None`` to go
on. The ``*_async`` twins differ only where they wait: a sender check that fetches keys, and
the router's ``dispatch_async``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._router import DispatchResult, Router
from ..auth import Authenticator, check_async, headers_from_pairs, log_denial, resolve
from ..auth import Request as AuthRequest
from ..events import Envelope
from ..events.http import (
    BatchTooLarge,
    Headers,
    Mode,
    decode_http,
    decode_http_batch,
    decode_http_read,
)
from ..wire import BATCH_MEDIA_TYPE, DEFAULT_MAX_BODY
from ._policy import dispatch_failure, respond, undecodable
from .response import Response, plain, too_large

if TYPE_CHECKING:
    from ..auth import Denial
    from ..metrics import PrometheusMetrics

__all__ = [
    "HEALTH_PATHS",
    "METRICS_PATH",
    "REPLY_MODES",
    "Adapter",
    "Dispatcher",
    "ReplyMode",
    "Request",
    "Runner",
    "check_options",
    "declared_length",
    "denial_answer",
    "is_batch",
    "preflight",
]

#: How a reply event is encoded: the HTTP binding's two modes.
ReplyMode = Mode
REPLY_MODES: tuple[ReplyMode, ...] = ("binary", "structured")
LIVENESS_PATH = "/health/liveness"
READINESS_PATH = "/health/readiness"
HEALTH_PATHS = frozenset({LIVENESS_PATH, READINESS_PATH})
#: Where an adapter made with ``metrics=`` answers with the registry's samples.
METRICS_PATH = "/metrics"


class Dispatcher(Protocol):
    """What the adapters that answer by raising (Lambda, functions-framework) need of a
    :class:`veba_sdk.Router`; structural, so tests may hand in their own."""

    def dispatch(self, event: Any, *, platform_context: Any = None) -> DispatchResult:
        """Run the handlers of one event."""
        ...


class Request:
    """One HTTP request, as much of it as the transport has read.

    Attributes:
        method: the HTTP method, upper case.
        path: the path within the app (probes work wherever it is mounted).
        headers: what the decoder reads: a mapping of lower-case names, or ASGI header pairs.
        platform: the platform's own request object, handed to handlers as ``ctx.platform``.
        body: the body, once read.
        content_type: the ``Content-Type`` header, when the transport has it at hand.
        declared: the declared ``Content-Length`` (any form), when the transport has it.
        attributes: the CloudEvent attributes of ``ce-`` headers the transport read already,
            with ``ce_content_type`` (``None``: the decoder reads ``headers`` itself).
        auth_headers: every header as a lower-case mapping, for a sender check (``None``:
            made from ``headers``).
    """

    # Made once per request on the hot path: four arguments, the rest class-level defaults
    # until a transport sets them (cheaper than keyword defaults and slots).
    body: bytes = b""
    content_type: bytes | str | None = None
    declared: bytes | str | None = None
    attributes: dict[str, Any] | None = None
    ce_content_type: str | None = None
    auth_headers: Mapping[str, str] | None = None

    def __init__(self, method: str, path: str, headers: Headers, platform: Any = None) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.platform = platform

    def header(self, name: str) -> str | None:
        """One header's value (``name`` lower case), from whichever form the headers have."""
        if self.auth_headers is not None:
            return self.auth_headers.get(name)
        headers = self.headers
        if isinstance(headers, Mapping):
            value = headers.get(name)
            return None if value is None else str(value)
        key = name.encode("latin-1")
        for raw_key, raw_value in headers:
            if raw_key == key:
                return raw_value.decode("latin-1")
        return None


def check_options(max_body: int, reply_mode: str) -> None:
    """Reject adapter options that can never work, at construction time.

    Raises:
        ValueError: ``max_body`` is not a positive int, or ``reply_mode`` is unknown.
    """
    if not isinstance(max_body, int) or isinstance(max_body, bool) or max_body <= 0:
        raise ValueError(f"max_body must be a positive number of bytes, not {max_body!r}")
    if reply_mode not in REPLY_MODES:
        raise ValueError(f"reply_mode must be one of {', '.join(REPLY_MODES)}, not {reply_mode!r}")


def preflight(method: str, path: str, *, ready: bool = True) -> Response | None:
    """Answer requests that are not event deliveries: health probes and wrong methods.

    Returns:
        the answer, or ``None`` when the request is a ``POST`` whose body should be decoded.
    """
    if path in HEALTH_PATHS:
        if method == "GET" or method == "HEAD":
            if path == READINESS_PATH and not ready:
                return plain(503, "not ready")
            return plain(200, "OK")
        return plain(405, f"method {method[:20]} not allowed on {path}", [("Allow", "GET, HEAD")])
    if method != "POST":
        return plain(
            405, f"method {method[:20]} not allowed: POST a CloudEvent", [("Allow", "POST")]
        )
    return None


def declared_length(value: bytes | str | None) -> int | None:
    """The ``Content-Length`` as an int, ``None`` when absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, bytes) and value.isdigit():  # the usual case, without decoding
        return int(value)
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def is_batch(content_type: bytes | str | None) -> bool:
    """Whether a ``Content-Type`` is ``application/cloudevents-batch+json``."""
    if not content_type:
        return False
    text = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    if "atch" not in text:  # the usual request, without lower-casing it ("Batch" passes)
        return False
    return text.split(";", 1)[0].strip().lower() == BATCH_MEDIA_TYPE


class Runner:
    """The status policy applied to one router's deliveries, for every HTTP transport.

    Args:
        router: the router whose handlers serve the events.
        max_body: bodies over this many bytes get 413.
        reply_mode: how a handler's reply event is encoded (``"binary"`` or ``"structured"``).
        auth: the sender check; ``None`` reads ``VEBA_AUTH`` (unset: everyone is served).
        metrics: ``True`` or a :class:`~veba_sdk.metrics.PrometheusMetrics` counts the
            router's events and answers ``GET /metrics`` (behind ``auth``).
    """

    __slots__ = ("auth", "max_body", "metrics", "ready", "reply_mode", "router")

    def __init__(
        self,
        router: Router,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        reply_mode: ReplyMode = "binary",
        auth: Authenticator | None = None,
        metrics: bool | PrometheusMetrics | None = None,
    ) -> None:
        check_options(max_body, reply_mode)
        self.router = router
        self.max_body = max_body
        self.reply_mode: ReplyMode = reply_mode
        self.auth = resolve(auth)
        self.metrics = None
        if metrics is not None and metrics is not False:
            from ..metrics import resolve_metrics  # only a metered app loads prometheus_client

            self.metrics = resolve_metrics(metrics)
        if self.metrics is not None:
            self.metrics.observe(router)
        self.ready = True

    # -- 1. before the body ------------------------------------------------------------------

    def head(self, request: Request) -> Response | None:
        """Probes, ``/metrics``, 405, a refused sender, a declared length over the limit."""
        if request.method != "POST" or request.path in HEALTH_PATHS:
            if self._wants_metrics(request):
                return self.refused(request, b"") or self._samples(request)
            return preflight(request.method, request.path, ready=self.ready)
        auth = self.auth
        if auth is not None and not auth.needs_body:  # refused before the body is read
            denied = self.refused(request, None)
            if denied is not None:
                return denied
        return self._declared_over(request)

    async def head_async(self, request: Request) -> Response | None:
        """:meth:`head` from a coroutine: a sender check's key fetches run off the loop."""
        if request.method != "POST" or request.path in HEALTH_PATHS:
            if self._wants_metrics(request):
                return await self.refused_async(request, b"") or self._samples(request)
            return preflight(request.method, request.path, ready=self.ready)
        auth = self.auth
        if auth is not None and not auth.needs_body:
            denied = await self.refused_async(request, None)
            if denied is not None:
                return denied
        return self._declared_over(request)

    # -- 2. with the body --------------------------------------------------------------------

    def body(self, request: Request) -> Response | None:
        """413 for a body over the limit; a sender check over the body (before decoding)."""
        if len(request.body) > self.max_body:
            return too_large(self.max_body)
        auth = self.auth
        if auth is not None and auth.needs_body:
            return self.refused(request, request.body)
        return None

    async def body_async(self, request: Request) -> Response | None:
        """:meth:`body` from a coroutine."""
        if len(request.body) > self.max_body:
            return too_large(self.max_body)
        auth = self.auth
        if auth is not None and auth.needs_body:
            return await self.refused_async(request, request.body)
        return None

    # -- 3. decode, dispatch, answer ---------------------------------------------------------

    def decode(self, request: Request) -> list[Envelope] | Response:
        """The request's events (a batch, or one), or the 400/413 answer."""
        if is_batch(request.content_type):
            try:
                return decode_http_batch(request.headers, request.body, max_body=self.max_body)
            except BatchTooLarge as exc:
                return plain(413, exc.reason)
            except Exception as exc:
                return undecodable(exc)
        try:
            if request.attributes is not None:  # the transport read the ce- headers already
                envelope = decode_http_read(
                    request.attributes,
                    request.ce_content_type,
                    request.body,
                    max_body=self.max_body,
                )
            else:
                envelope = decode_http(request.headers, request.body, max_body=self.max_body)
        except Exception as exc:
            return undecodable(exc)
        return [envelope]

    def deliver(self, request: Request) -> Response:
        """Decode the request, run its events' handlers here, answer by the status policy."""
        decoded = self.decode(request)
        if isinstance(decoded, Response):
            return decoded
        return self.answer(decoded, request.platform)

    async def deliver_async(self, request: Request) -> Response:
        """:meth:`deliver` from a coroutine (``def`` handlers run in a worker thread)."""
        decoded = self.decode(request)
        if isinstance(decoded, Response):
            return decoded
        if len(decoded) == 1:  # the usual delivery, without a second coroutine
            envelope = decoded[0]
            try:
                result = await self.router.dispatch_async(
                    envelope, platform_context=request.platform
                )
            except Exception as exc:
                return dispatch_failure(envelope, exc)
            return respond((result,), self.reply_mode)
        return await self.answer_async(decoded, request.platform)

    def answer(self, envelopes: Sequence[Envelope], platform: Any) -> Response:
        """Dispatch decoded envelopes one after another and answer by the status policy."""
        results = []
        for envelope in envelopes:
            try:
                results.append(self.router.dispatch(envelope, platform_context=platform))
            except Exception as exc:
                return dispatch_failure(envelope, exc)
        return respond(results, self.reply_mode)

    async def answer_async(self, envelopes: Sequence[Envelope], platform: Any) -> Response:
        """:meth:`answer` from a coroutine."""
        results = []
        for envelope in envelopes:
            try:
                results.append(
                    await self.router.dispatch_async(envelope, platform_context=platform)
                )
            except Exception as exc:
                return dispatch_failure(envelope, exc)
        return respond(results, self.reply_mode)

    def serve(self, request: Request) -> Response:
        """All three steps, for a transport that has read the body already."""
        return self.head(request) or self.body(request) or self.deliver(request)

    # -- helpers -----------------------------------------------------------------------------

    def _declared_over(self, request: Request) -> Response | None:
        declared = declared_length(request.declared)
        if declared is not None and declared > self.max_body:
            return too_large(self.max_body)
        return None

    def _wants_metrics(self, request: Request) -> bool:
        return (
            self.metrics is not None
            and request.path == METRICS_PATH
            and request.method in ("GET", "HEAD")
        )

    def _samples(self, request: Request) -> Response:
        assert self.metrics is not None
        body, content_type = self.metrics.exposition(request.header("accept"))
        return Response(200, [("Content-Type", content_type)], body)

    def refused(self, request: Request, body: bytes | None) -> Response | None:
        if self.auth is None:
            return None
        check = _auth_request(request, body)
        return denial_answer(self.auth.check(check), check)

    async def refused_async(self, request: Request, body: bytes | None) -> Response | None:
        if self.auth is None:
            return None
        check = _auth_request(request, body)
        return denial_answer(await check_async(self.auth, check), check)

    def __repr__(self) -> str:
        return f"<Runner {self.router!r} reply_mode={self.reply_mode!r}>"


class Adapter:
    """The base of every HTTP adapter class: a transport in front of one :class:`Runner`.

    A subclass reads its platform's request into a :class:`Request`, runs the runner's steps
    and writes the :class:`~veba_sdk.adapters.response.Response` back; the options it was
    made with are the runner's, read here.
    """

    runner: Runner

    @property
    def router(self) -> Router:
        """The router served."""
        return self.runner.router

    @property
    def max_body(self) -> int:
        """Bodies over this many bytes get 413."""
        return self.runner.max_body

    @property
    def reply_mode(self) -> ReplyMode:
        """How a handler's reply event is encoded."""
        return self.runner.reply_mode

    @property
    def auth(self) -> Authenticator | None:
        """The sender check, or ``None``."""
        return self.runner.auth

    @property
    def ready(self) -> bool:
        """Whether ``/health/readiness`` answers 200 (false once shutdown has begun)."""
        return self.runner.ready

    @ready.setter
    def ready(self, value: bool) -> None:
        self.runner.ready = value


def _auth_request(request: Request, body: bytes | None) -> AuthRequest:
    headers = request.auth_headers
    if headers is None:
        raw = request.headers
        headers = raw if isinstance(raw, Mapping) else headers_from_pairs(raw)
    return AuthRequest(request.method, request.path, headers, body)


def denial_answer(denial: Denial | None, request: AuthRequest) -> Response | None:
    """The answer to a sender check's ``denial`` (logged as one line), or ``None``."""
    if denial is None:
        return None
    log_denial(denial, request)
    return plain(denial.status, denial.reason, denial.headers)
