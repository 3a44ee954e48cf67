"""In-process test clients: a function's events through each platform's own entry, no sockets.

:func:`client` wraps a router (or a platform entry already built from one: the Knative ASGI app,
the OpenFaaS ``handle``, the ``lambda_handler``, a functions-framework source file) and sends
events the way the platform delivers them, answering a :class:`ClientResponse` that reads the
same on every platform::

    from veba_sdk.testing import client

    def test_enter(router):
        with client(router, platform="knative") as function:
            response = function.send("EnteredMaintenanceModeEvent", host__name="esx01")
        assert response.status == 200
        assert response.json() == {"host": "esx01"}

=============  ===================================================================================
platform       what runs
=============  ===================================================================================
``knative``    :func:`veba_sdk.adapters.knative.asgi` through ``httpx.ASGITransport``, on one event
               loop of the client's own (a thread), behind a plain synchronous API
``openfaas``   the python3-http template's ``handle(event, context)``
               (:func:`veba_sdk.adapters.openfaas.handler`), with the template's ``Event``
``lambda``     :func:`veba_sdk.adapters.aws_lambda.handler` given EventBridge events
``gcf``        functions-framework's own Flask app (``create_app(...).test_client()``); imported
               only here, so the other platforms need no functions-framework
=============  ===================================================================================

Lambda answers no HTTP status; the client maps its outcome onto the same policy the HTTP
platforms follow: a returned ``dict`` is 200 with it as JSON, ``None`` is 204, an
:class:`~veba_sdk.InvalidEvent` is 400 and any other exception (a handler failed) is 500; the
exception is kept as :attr:`ClientResponse.error`.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import types
import uuid
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import InvalidEvent
from ._events import (
    DEFAULT_SOURCE,
    make_event,
    make_horizon_event,
    to_cloudevent,
    to_eventbridge,
    to_openfaas,
)

if TYPE_CHECKING:
    from ..events import Event

__all__ = ["PLATFORMS", "ClientResponse", "FunctionClient", "LambdaTestContext", "client"]

#: The platforms :func:`client` drives.
PLATFORMS = ("knative", "openfaas", "lambda", "gcf")

Body = bytes | str | Mapping[str, Any] | list[Any] | None
T = TypeVar("T")


class ClientResponse:
    """What the platform answered, the same shape on every platform.

    Attributes:
        status: the HTTP status (Lambda: 200 returned a dict, 204 returned ``None``, 400
            :class:`~veba_sdk.InvalidEvent`, 500 any other exception).
        headers: the response headers, names lower-cased.
        body: the response body (Lambda: the returned value as JSON, or the error's message).
        raw: the platform's own answer: an ``httpx.Response`` (knative), the template's
            ``{"statusCode", "body", "headers"}`` (openfaas), the handler's return value or
            exception (lambda), werkzeug's ``TestResponse`` (gcf).
        error: the exception a Lambda handler raised, else ``None``.
    """

    __slots__ = ("body", "error", "headers", "raw", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        raw: Any,
        error: BaseException | None = None,
    ) -> None:
        self.status = status
        self.headers = {str(k).lower(): str(v) for k, v in headers.items()}
        self.body = body
        self.raw = raw
        self.error = error

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx: the delivery succeeded and will not be retried."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body as text (UTF-8)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (``None`` for an empty body).

        Raises:
            ValueError: the body is not JSON.
        """
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive), or ``None``."""
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status} {self.body[:80]!r}>"


class LambdaTestContext:
    """A stand-in for the Lambda runtime's context (what handlers see as ``ctx.platform``)."""

    def __init__(
        self,
        function_name: str = "veba-function",
        *,
        timeout_ms: int = 30_000,
        region: str = "us-west-1",
        account: str = "123456789012",
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.memory_limit_in_mb = "128"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "veba-testing"
        self._timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left: the whole timeout (the stand-in never runs out)."""
        return self._timeout_ms


class FunctionClient(abc.ABC):
    """The in-process client of one platform: :meth:`send` events, :meth:`post` raw input.

    Made by :func:`client`; a context manager (or :meth:`close`) frees what it holds.
    """

    platform: str = ""

    def send(
        self,
        name_or_event: str | Event,
        /,
        *,
        producer: str | None = None,
        mode: str | None = None,
        encoding: str | None = None,
        source: str = DEFAULT_SOURCE,
        **overrides: Any,
    ) -> ClientResponse:
        """Deliver one event as the platform does; the platform's answer.

        Args:
            name_or_event: an event class name or EventEx type id (built by
                :func:`~veba_sdk.testing.make_event` with ``overrides``, such as
                ``host__name="esx01"``), a Horizon event name (``"horizon.<TYPE>"``, built by
                :func:`~veba_sdk.testing.make_horizon_event`), or a typed event.
            producer, mode, encoding: as :func:`~veba_sdk.testing.to_cloudevent` takes them.
                OpenFaaS without them posts what VEBA's OpenFaaS processor posts (the
                structured JSON, no CloudEvents content type); Lambda takes only the EventBridge
                processor's shape (``router``, ``structured``, ``json``).
            source: the vCenter SDK URL of the event.

        Raises:
            KeyError: no event class has that name (with suggestions).
            ValueError: an unknown option, or one the platform never delivers.
            TypeError: ``overrides`` given with a typed event, or naming no field.
        """
        self._check_open()
        event = _event(name_or_event, overrides)
        return self._send(event, producer, mode, encoding, source)

    def _send(
        self,
        event: Event,
        producer: str | None,
        mode: str | None,
        encoding: str | None,
        source: str,
    ) -> ClientResponse:
        given = {"producer": producer, "mode": mode, "encoding": encoding}
        # What is not given is to_cloudevent's default, so both read the same.
        options = {name: value for name, value in given.items() if value is not None}
        headers, body = to_cloudevent(event, source=source, **options)
        return self.post(body, headers=headers)

    @abc.abstractmethod
    def post(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        path: str = "/",
        method: str = "POST",
    ) -> ClientResponse:
        """Send a raw request (garbage, hand-made CloudEvents): its answer.

        ``body`` may be bytes, text, or a ``dict``/``list`` (sent as JSON). Lambda, which
        takes no HTTP request, is invoked with the body's JSON value (or the text itself when
        it is no JSON).
        """

    #: set by :meth:`close`; a closed client refuses to send
    closed = False

    def close(self) -> None:
        """Free what the client holds; it sends nothing more. Idempotent."""
        self.closed = True

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"the {self.platform} test client is closed")

    def __enter__(self) -> FunctionClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} platform={self.platform!r}>"


def _event(name_or_event: Any, overrides: Mapping[str, Any]) -> Event:
    if isinstance(name_or_event, str):
        if name_or_event.startswith("horizon."):
            return make_horizon_event(name_or_event, **overrides)  # type: ignore[return-value]
        return make_event(name_or_event, **overrides)
    if overrides:
        raise TypeError(
            "field overrides apply to an event name only: "
            f"send({type(name_or_event).__name__}(...)) takes the event as it is"
        )
    return name_or_event  # type: ignore[no-any-return]  # a typed event, checked by the adapter


def _body_bytes(body: Body) -> tuple[bytes, str | None]:
    """The body's bytes and, for a dict or list, the JSON content type it implies."""
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), None
    return json.dumps(body).encode("utf-8"), "application/json"


def _with_type(headers: Mapping[str, str] | None, implied: str | None) -> dict[str, str]:
    out = dict(headers or {})
    if implied and not any(k.lower() == "content-type" for k in out):
        out["Content-Type"] = implied
    return out


# -- knative ------------------------------------------------------------------------------------


class _Portal:
    """One event loop in a daemon thread, where the ASGI app and its client run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="veba-testing-client", daemon=True
        )
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


class _KnativeClient(FunctionClient):
    platform = "knative"

    def __init__(self, app: Any, timeout: float) -> None:
        import httpx

        self.app = app
        self._timeout = timeout
        self._portal = _Portal()

        async def make() -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app)
            return httpx.AsyncClient(transport=transport, base_url="http://function")

        self._http = self._portal.call(make(), timeout)

    def post(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        path: str = "/",
        method: str = "POST",
    ) -> ClientResponse:
        self._check_open()
        content, implied = _body_bytes(body)
        request = self._http.request(
            method, path, headers=_with_type(headers, implied), content=content
        )
        response = self._portal.call(request, self._timeout)
        return ClientResponse(response.status_code, response.headers, response.content, response)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        try:
            self._portal.call(self._http.aclose(), self._timeout)
        finally:
            self._portal.stop()


# -- openfaas -----------------------------------------------------------------------------------


class _OpenFaaSClient(FunctionClient):
    platform = "openfaas"

    def __init__(self, handle: Callable[[Any, Any], Any]) -> None:
        self.handle = handle

    def _send(
        self,
        event: Event,
        producer: str | None,
        mode: str | None,
        encoding: str | None,
        source: str,
    ) -> ClientResponse:
        if producer is None and mode is None and encoding is None:  # VEBA's processor
            request = to_openfaas(event, source=source)
            return self.post(request["body"], headers=request["headers"])
        return super()._send(event, producer, mode, encoding, source)

    def post(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        path: str = "/",
        method: str = "POST",
    ) -> ClientResponse:
        from ..cli.openfaas_wsgi import Context, Event

        self._check_open()
        content, implied = _body_bytes(body)
        sent = _with_type(headers, implied)
        sent.setdefault("Content-Length", str(len(content)))
        request = Event(body=content, headers=sent, method=method, query={}, path=path)
        result = self.handle(request, Context())
        if not isinstance(result, Mapping) or "statusCode" not in result:
            # A handle() of the user's own returning a plain value: the template answers 200.
            text = result if isinstance(result, (str, bytes)) else json.dumps(result)
            data = text.encode("utf-8") if isinstance(text, str) else text
            return ClientResponse(200, {}, data, result)
        answer = result.get("body", "")
        data = answer if isinstance(answer, bytes) else str(answer).encode("utf-8")
        return ClientResponse(
            int(result["statusCode"]), dict(result.get("headers") or {}), data, result
        )


# -- lambda -------------------------------------------------------------------------------------


class _LambdaClient(FunctionClient):
    platform = "lambda"

    def __init__(self, lambda_handler: Callable[[Any, Any], Any], function_name: str) -> None:
        self.lambda_handler = lambda_handler
        self._function_name = function_name

    def _send(
        self,
        event: Event,
        producer: str | None,
        mode: str | None,
        encoding: str | None,
        source: str,
    ) -> ClientResponse:
        for option, value, allowed in (
            ("producer", producer, "router"),
            ("mode", mode, "structured"),
            ("encoding", encoding, "json"),
        ):
            if value not in (None, allowed):
                raise ValueError(
                    f"VEBA's EventBridge processor sends {option} {allowed!r} only, not {value!r}"
                )
        return self.invoke(to_eventbridge(event, source=source))

    def invoke(self, payload: Any, context: Any = None) -> ClientResponse:
        """Invoke the handler with ``payload`` as the Lambda runtime does (any JSON value)."""
        self._check_open()
        context = context if context is not None else LambdaTestContext(self._function_name)
        try:
            value = self.lambda_handler(payload, context)
        except InvalidEvent as exc:
            return ClientResponse(400, _PLAIN, (exc.reason + "\n").encode("utf-8"), exc, exc)
        except Exception as exc:  # the runtime reports it as a failed invocation: a retry
            line = " ".join(str(exc).split()) or type(exc).__name__
            return ClientResponse(500, _PLAIN, (line + "\n").encode("utf-8"), exc, exc)
        if value is None:
            return ClientResponse(204, {}, b"", None)
        data = json.dumps(value, default=str).encode("utf-8")
        return ClientResponse(200, {"content-type": "application/json"}, data, value)

    def post(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        path: str = "/",
        method: str = "POST",
    ) -> ClientResponse:
        if isinstance(body, (bytes, str)):
            try:
                payload: Any = json.loads(body) if body else None
            except ValueError:
                payload = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        else:
            payload = body
        return self.invoke(payload)


_PLAIN = {"content-type": "text/plain; charset=utf-8"}


# -- gcf ----------------------------------------------------------------------------------------

#: Functions the generated functions-framework source files pick up, by key.
_GCF_FUNCTIONS: dict[str, Callable[..., Any]] = {}
_GCF_KEYS = itertools.count(1)


def _gcf_function(key: str) -> Callable[..., Any]:
    """The function a generated source file serves (see :class:`_GcfClient`)."""
    return _GCF_FUNCTIONS[key]


class _GcfClient(FunctionClient):
    platform = "gcf"

    def __init__(self, target: str, source: str | None, function: Callable[..., Any] | None):
        from .._extras import needs_extra

        with needs_extra("gcf", "veba_sdk.testing.client(platform='gcf')"):
            import functions_framework

        self._cleanup: list[Callable[[], object]] = []
        if source is None:
            assert function is not None
            source = self._write_source(target, function)
        before = set(sys.path)
        self.app = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target, source, "cloudevent"
        )
        added = [entry for entry in sys.path if entry not in before]

        def unpath() -> None:  # create_app put the source's directory on sys.path
            for entry in added:
                if entry in sys.path:
                    sys.path.remove(entry)

        self._cleanup.append(unpath)
        self._http = self.app.test_client()

    def _write_source(self, target: str, function: Callable[..., Any]) -> str:
        key = f"{next(_GCF_KEYS)}-{uuid.uuid4().hex[:8]}"
        _GCF_FUNCTIONS[key] = function
        directory = tempfile.mkdtemp(prefix="veba-gcf-client-")
        module = f"veba_gcf_client_{key.replace('-', '_')}"
        path = os.path.join(directory, module + ".py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(
                '"""Made by veba_sdk.testing.client for functions-framework\'s create_app."""\n'
                "from veba_sdk.testing._client import _gcf_function\n\n"
                f"{target} = _gcf_function({key!r})\n"
            )
        self._cleanup.append(lambda: _GCF_FUNCTIONS.pop(key, None))
        self._cleanup.append(lambda: sys.modules.pop(module, None))
        self._cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
        return path

    def post(
        self,
        body: Body = b"",
        *,
        headers: Mapping[str, str] | None = None,
        path: str = "/",
        method: str = "POST",
    ) -> ClientResponse:
        self._check_open()
        content, implied = _body_bytes(body)
        response = self._http.open(
            path, method=method, headers=_with_type(headers, implied), data=content
        )
        return ClientResponse(response.status_code, dict(response.headers), response.data, response)

    def close(self) -> None:
        super().close()
        cleanup, self._cleanup = self._cleanup, []
        for step in cleanup:
            step()


# -- the factory --------------------------------------------------------------------------------


def client(
    router_or_entry: Any = None,
    platform: str = "knative",
    *,
    source: str | os.PathLike[str] | None = None,
    target: str = "function",
    function_name: str = "veba-function",
    timeout: float = 30.0,
) -> FunctionClient:
    """An in-process client that delivers events to a function as ``platform`` does.

    Args:
        router_or_entry: a :class:`veba_sdk.Router` (the platform's adapter is built around
            it), or the platform entry already built: the ASGI app (knative), ``handle``
            (openfaas), ``lambda_handler`` (lambda), or the functions-framework function
            (gcf). For gcf, ``source=`` may name the entry file instead.
        platform: ``"knative"``, ``"openfaas"``, ``"lambda"`` or ``"gcf"``.
        source: gcf only: the functions-framework source file (``main.py``) to serve, with
            ``target`` as its function, exactly as ``functions-framework --source`` would.
        target: gcf only: the function's name.
        function_name: lambda only: the context's ``function_name``.
        timeout: knative only: seconds to wait for one answer.

    Raises:
        ValueError: an unknown platform, or nothing to serve.
        MissingExtra: the platform's dependency is not installed (knative: httpx, the
            ``vrops`` extra; gcf: functions-framework, the ``gcf`` extra).
    """
    from .._router import Router

    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    is_router = isinstance(router_or_entry, Router)
    if router_or_entry is None and not (platform == "gcf" and source is not None):
        raise ValueError("give a router, the platform's entry, or (gcf) source=")
    if platform == "knative":
        from .._extras import needs_extra

        with needs_extra("vrops", "veba_sdk.testing.client(platform='knative')"):
            import httpx  # noqa: F401  # ASGITransport
        if is_router:
            from ..adapters.knative import asgi

            return _KnativeClient(asgi(router_or_entry, gc_threshold=None), timeout)
        return _KnativeClient(router_or_entry, timeout)
    if platform == "openfaas":
        if is_router:
            from ..adapters.openfaas import handler

            return _OpenFaaSClient(handler(router_or_entry))
        return _OpenFaaSClient(router_or_entry)
    if platform == "lambda":
        if is_router:
            from ..adapters.aws_lambda import handler as lambda_handler

            return _LambdaClient(lambda_handler(router_or_entry), function_name)
        return _LambdaClient(router_or_entry, function_name)
    if source is not None:
        return _GcfClient(target, os.fspath(source), None)
    if is_router:
        from ..adapters.gcf import function

        return _GcfClient(target, None, function(router_or_entry, target))
    return _GcfClient(target, None, router_or_entry)
