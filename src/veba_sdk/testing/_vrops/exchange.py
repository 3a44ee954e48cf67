"""One request to the stand-in answered: counted, faulted, authenticated, routed, recorded.

Transport-independent: the front ends in :mod:`.http` hand it an :class:`httpx.Request` and
send back the :class:`Answer` (after its delay; ``response=None`` drops the connection).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs
import httpx

from veba_sdk.testing._vrops.endpoints import Endpoint, Endpoints
from veba_sdk.testing._vrops.faults import Faults
from veba_sdk.testing._vrops.records import ApiError, RecordedCall
from veba_sdk.testing._vrops.state import State

__all__ = ["BASE_PATH", "Answer", "Exchange"]

BASE_PATH = "/suite-api"
ACQUIRE_ROUTE = "/api/auth/token/acquire"


@attrs.frozen
class Answer:
    """What to send back: a response (``None``: drop the connection), ``delay`` seconds late."""

    response: httpx.Response | None
    delay: float = 0.0


@attrs.frozen
class _Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    endpoint: Endpoint
    needs_token: bool


class Exchange:
    """Answers requests from a :class:`State`, its :class:`Faults` and its endpoints."""

    def __init__(self, state: State, faults: Faults) -> None:
        self.state = state
        self.faults = faults
        self._routes = [
            _Route(
                method,
                re.compile(
                    "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
                ),
                template,
                endpoint,
                needs_token,
            )
            for method, template, endpoint, needs_token in Endpoints(state).routes()
        ]

    def _route(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        for route in self._routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return route, match.groupdict()
        return None

    def answer(self, request: httpx.Request) -> Answer:
        """Answer one request (its body already read)."""
        method = request.method.upper()
        raw_path = request.url.path
        query = request.url.params.multi_items()
        path = raw_path[len(BASE_PATH) :] if raw_path.startswith(BASE_PATH + "/") else None
        found = self._route(method, path) if path is not None else None
        name = found[0].template if found else raw_path
        state = self.state
        with state.lock:
            state.counts[f"{method} {name}"] += 1
            delay = self.faults.take_delay()
            fault = self.faults.take(raw_path)
        if fault is not None and fault.status is None:
            self._record(method, raw_path, name, query, 0)
            return Answer(None, delay)
        if fault is not None and fault.status is not None:
            response = ApiError(
                fault.status,
                f"injected failure {fault.status}",
                api_error_code=fault.api_error_code,
            ).response()
            if fault.retry_after is not None:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
        elif found is None:
            response = ApiError(404, f"no such endpoint: {method} {raw_path}").response()
        else:
            route, params = found
            response = self._dispatch(request, route, params)
        self._record(method, raw_path, name, query, response.status_code)
        return Answer(response, delay)

    def _record(
        self, method: str, path: str, route: str, query: list[tuple[str, str]], status: int
    ) -> None:
        with self.state.lock:
            self.state.calls.append(
                RecordedCall(method=method, path=path, route=route, query=query, status=status)
            )

    def _dispatch(
        self, request: httpx.Request, route: _Route, params: Mapping[str, str]
    ) -> httpx.Response:
        state = self.state
        accept = request.headers.get("accept", "")
        if "application/json" not in accept and "*/*" not in accept:
            state.violations.append(
                f"{request.method} {route.template}: no Accept: application/json"
            )
        if route.template == ACQUIRE_ROUTE and "authorization" in request.headers:
            state.violations.append("Authorization header sent on token acquire")
        try:
            if route.needs_token:
                state.check_token(request.headers.get("authorization"))
            with state.lock:
                return route.endpoint(request, params)
        except ApiError as err:
            return err.response()
