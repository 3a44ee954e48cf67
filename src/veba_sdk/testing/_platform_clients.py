"""The in-process test client of each platform: Knative, OpenFaaS, Lambda, functions-framework.

Each drives the platform's own entry as the platform does (see :mod:`._client`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import InvalidEvent
from .._extras import needs_extra
from ..wire import JSON_MEDIA_TYPE
from ._events import Encoding, Mode, Producer, to_eventbridge, to_openfaas
from ._function_client import (
    Body,
    ClientResponse,
    FunctionClient,
    LambdaTestContext,
    _body_bytes,
    _with_type,
)

if TYPE_CHECKING:
    from ..events import Event

T = TypeVar("T")

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
        producer: Producer | None,
        mode: Mode | None,
        encoding: Encoding | None,
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
        producer: Producer | None,
        mode: Mode | None,
        encoding: Encoding | None,
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
        return ClientResponse(200, {"content-type": JSON_MEDIA_TYPE}, data, value)

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
                "from veba_sdk.testing._platform_clients import _gcf_function\n\n"
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
