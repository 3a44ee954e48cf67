"""Check HTTP exchanges against the official VCF Operations 9.1 OpenAPI document.

Requests and declared responses are validated by openapi-core (parameters,
deepObject ``identifiers[...]``, formats such as ``uuid``, request and response
bodies, security). On top of that, stricter rules than the document states:

* every query parameter must be declared by the operation (openapi-core lets
  unknown ones through);
* ``Accept: application/json`` on every request;
* no ``Authorization`` header where the operation has ``security: []`` (token
  acquire, node status); a ``vRealizeOpsToken``/``OpsToken`` one everywhere else;
* error statuses the operation does not declare (401, 429, 503 ...) must carry
  a body valid against ``components/schemas/error``.

:class:`CheckedTransport` / :class:`AsyncCheckedTransport` wrap any httpx
transport and check every exchange passing through.
"""

from __future__ import annotations

import json
import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema.exceptions import best_match
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = (
    Path(__file__).resolve().parents[1] / "specs" / "vrops" / "vcf-operations-openapi-9.1.0.0.json"
)
BASE_PATH = "/suite-api"


class SpecViolation(AssertionError):
    """An exchange does not conform to the 9.1 OpenAPI document."""


class _Request:
    """openapi-core's Request protocol over an httpx.Request."""

    def __init__(self, request: httpx.Request) -> None:
        self.host_url = f"{request.url.scheme}://{request.url.netloc.decode()}"
        self.path = request.url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
            path={},
        )
        self.content_type = request.headers.get("content-type", "")
        self.body = request.content or None


class _Response:
    """openapi-core's Response protocol over an httpx.Response."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))
        self.data = response.content or None


@cache
def _load() -> tuple[dict[str, Any], OpenAPI]:
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    # None skips validating the spec itself (openapi_core.app checks for it); Config's annotation
    # leaves None out.
    config = Config(spec_validator_cls=None)  # type: ignore[arg-type]
    return document, OpenAPI.from_dict(document, config=config)


class SpecChecker:
    """Validates exchanges; remembers what it checked and every violation."""

    def __init__(self) -> None:
        self.document, self.api = _load()
        registry: Registry[Any] = Registry().with_resource(
            "urn:vrops-spec", Resource.from_contents(self.document, default_specification=DRAFT4)
        )
        self._error_validator = OAS30Validator(
            {"$ref": "urn:vrops-spec#/components/schemas/error"}, registry=registry
        )
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(p)) + "$"), p)
            for p in self.document["paths"]
        ]
        self._lock = threading.Lock()
        self.checked: list[str] = []
        self.violations: list[str] = []

    # -- lookup ----------------------------------------------------------------

    def operation(self, request: httpx.Request) -> tuple[str, dict[str, Any]]:
        """The path template and operation object for a request."""
        path = request.url.path
        if not path.startswith(BASE_PATH + "/"):
            raise SpecViolation(f"{path} is outside {BASE_PATH}")
        path = path[len(BASE_PATH) :]
        # Prefer literal templates over ones with parameters (/resources/maintained
        # is not /resources/{id}).
        candidates = sorted(
            (t for rx, t in self._templates if rx.match(path)), key=lambda t: t.count("{")
        )
        for template in candidates:
            op = self.document["paths"][template].get(request.method.lower())
            if op is not None:
                return template, op
        raise SpecViolation(f"{request.method} {path}: no such operation in the 9.1 spec")

    # -- checks ----------------------------------------------------------------

    def _fail(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)
        raise SpecViolation(text)

    def check_request(self, request: httpx.Request) -> None:
        """Validate one request; raises :class:`SpecViolation`."""
        try:
            template, op = self.operation(request)
        except SpecViolation as exc:
            self._fail(str(exc))
            return
        label = f"{request.method} {template}"
        declared = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
        for key in request.url.params:
            name = key.split("[", 1)[0] if "[" in key else key
            param = declared.get(name)
            if param is None or ("[" in key and param.get("style") != "deepObject"):
                self._fail(f"{label}: undeclared query parameter {key!r}")
        accept = request.headers.get("accept", "")
        if "application/json" not in accept:
            self._fail(f"{label}: Accept is {accept!r}, not application/json")
        security = op.get("security", self.document.get("security"))
        authorization = request.headers.get("authorization")
        if security == []:
            if authorization is not None:
                self._fail(f"{label}: sends Authorization to an unauthenticated operation")
        elif not authorization or not re.fullmatch(
            r"(vRealizeOpsToken|OpsToken) \S+", authorization
        ):
            self._fail(f"{label}: missing or malformed token Authorization header")
        result = self.api.unmarshal_request(_Request(request))
        if result.errors:
            details = "; ".join(_describe(e) for e in result.errors)
            self._fail(f"{label}: {details}")
        with self._lock:
            self.checked.append(f"request {label}")

    def check_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """Validate one response to ``request``; raises :class:`SpecViolation`."""
        template, op = self.operation(request)
        label = f"{request.method} {template} -> {response.status_code}"
        declared = op.get("responses", {}).get(str(response.status_code))
        content = (declared or {}).get("content")
        if declared is not None and content and "application/json" in content:
            result = self.api.unmarshal_response(_Request(request), _Response(response))
            if result.errors:
                details = "; ".join(_describe(e) for e in result.errors)
                self._fail(f"{label}: {details}")
        elif response.status_code >= 400 and response.content:
            try:
                body = response.json()
            except ValueError:
                self._fail(f"{label}: error body is not JSON")
                return
            error = best_match(self._error_validator.iter_errors(body))
            if error is not None:
                self._fail(f"{label}: error body: {error.message}")
        elif declared is None and response.status_code < 400:
            self._fail(f"{label}: status not declared by the operation")
        with self._lock:
            self.checked.append(f"response {label}")


def _describe(error: Exception) -> str:
    causes: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 4:
        causes.append(f"{type(cause).__name__}: {cause}")
        inner = getattr(cause, "schema_errors", None)
        if inner:
            causes.extend(str(e.message) for e in inner[:3])
        cause = cause.__cause__
    return " <- ".join(causes)


class CheckedTransport(httpx.BaseTransport):
    """Checks every exchange through a sync transport."""

    def __init__(self, inner: httpx.BaseTransport, checker: SpecChecker) -> None:
        self.inner = inner
        self.checker = checker

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.checker.check_request(request)
        response = self.inner.handle_request(request)
        content = response.read()
        response.close()
        copy = _buffered(response, content, request)
        self.checker.check_response(request, copy)
        return copy

    def close(self) -> None:
        self.inner.close()


def _buffered(response: httpx.Response, content: bytes, request: httpx.Request) -> httpx.Response:
    """A copy of ``response`` holding its already-read ``content``, for checking and returning."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=content,
        request=request,
        extensions=response.extensions,
    )


class AsyncCheckedTransport(httpx.AsyncBaseTransport):
    """Checks every exchange through an async transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport, checker: SpecChecker) -> None:
        self.inner = inner
        self.checker = checker

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.checker.check_request(request)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        copy = _buffered(response, content, request)
        self.checker.check_response(request, copy)
        return copy

    async def aclose(self) -> None:
        await self.inner.aclose()
