"""Google functions-framework: a plain function for ``--signature-type cloudevent``.

functions-framework (3.x) looks the target up by name in the source module and insists on a
real :class:`types.FunctionType`, so :func:`function` builds one whose ``__name__`` is the
target::

    # main.py
    from veba_sdk import router
    from veba_sdk.adapters.gcf import function

    @router.on("VmPoweredOnEvent")
    def powered_on(event, ctx): ...

    handle = function(router)          # functions-framework --target handle \\
                                       #     --signature-type cloudevent [--asgi]

Decorating it with ``functions_framework.cloud_event`` works too (and makes
``--signature-type`` unnecessary).

The framework decodes the HTTP request itself (binary or structured mode) and calls the
function with a ``cloudevents`` 1.x ``CloudEvent``, in its default Flask server and in its
``--asgi`` Starlette server alike (there in a worker thread, so a handler's blocking I/O never
stalls the loop). Handlers see that object as ``ctx.platform``.

Status policy:

* a handler raised: the function raises :class:`~veba_sdk.HandlerError`, which the framework
  answers with 500 (and a retry, when the trigger retries);
* a CloudEvent that is no decodable vCenter event: the function raises an
  :class:`~veba_sdk.InvalidEvent` that is also the running server's own "400 Bad Request"
  exception (werkzeug's ``BadRequest`` under Flask, Starlette's ``HTTPException`` under
  ``--asgi``), so the framework answers 400 with the one-line reason as a ``text/plain`` body;
* no handler matched: the framework's 200 ``OK``.

Before the framework's parser: made inside functions-framework's ``create_app`` (which runs
the source module in its Flask app's context), :func:`function` registers a check on that app
that runs before the framework reads the request. A body over ``max_body`` gets 413, and a
request the SDK's own decoder refuses (not JSON, JSON nested too deep, integers over Python's
4,300 digits, a non-object, non-UTF-8 bytes, bad ``data_base64``, a CloudEvents batch, which
the framework does not take, an unreadable chunked body) gets 400 with the one-line reason,
where the framework's parser would have raised into a 500. A legacy background event (a JSON
object with ``context`` or ``eventId`` and no ``specversion``) is left to the framework, which
converts it. What remains the framework's is listed in ``docs/gcf.md``.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from .._errors import InvalidEvent
from .._router import Router
from ..auth import Authenticator, resolve
from ..auth import Request as AuthRequest
from ..events import from_cloudevent
from ..events.http import decode_http
from ..logging import one_line
from ..logging import setup as setup_logging
from ..wire import DEFAULT_MAX_BODY
from ._policy import undecodable
from ._runner import METRICS_PATH, Dispatcher, denial_answer, is_batch
from .response import Response, plain, too_large

__all__ = ["BadCloudEvent", "bad_request", "function", "precheck", "serve_metrics"]

if TYPE_CHECKING:
    from ..metrics import PrometheusMetrics

logger = logging.getLogger("veba_sdk.adapters.gcf")


class BadCloudEvent(InvalidEvent):
    """An :class:`InvalidEvent` that web frameworks answer with ``400 Bad Request``.

    :func:`bad_request` makes instances of a subclass that also derives from the HTTP
    exception of each framework already imported (werkzeug, Starlette), so whichever server
    runs the function turns it into a 400 with the one-line reason as the body.
    """

    code = 400
    status_code = 400

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason, field=field)
        # werkzeug.exceptions.HTTPException reads these ...
        self.description: str | None = self.reason
        self.response: Any = None
        # ... and starlette.exceptions.HTTPException these.
        self.detail = self.reason
        self.headers: dict[str, str] | None = None

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        """The response body under werkzeug: the reason, one line."""
        return self.reason + "\n"

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        """The response headers under werkzeug."""
        return [("Content-Type", "text/plain; charset=utf-8")]

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"BadCloudEvent({self.reason!r})"


@functools.cache
def _bad_request_class(use_werkzeug: bool, use_starlette: bool) -> type[BadCloudEvent]:
    bases: list[type] = [BadCloudEvent]
    if use_werkzeug:
        from werkzeug.exceptions import BadRequest

        bases.append(BadRequest)
    if use_starlette:
        from starlette.exceptions import HTTPException

        bases.append(HTTPException)
    if len(bases) == 1:
        return BadCloudEvent
    # werkzeug's HTTPException defines __init__/__str__/get_body... further down the MRO;
    # BadCloudEvent's come first, so the reason is what every framework shows.
    return cast(
        "type[BadCloudEvent]",
        type("BadCloudEvent", tuple(bases), {"__module__": __name__}),
    )


def bad_request(exc: InvalidEvent) -> BadCloudEvent:
    """``exc`` as an exception the running web framework answers with 400.

    Only frameworks already imported are considered (nothing is imported here): in a
    functions-framework process that is werkzeug, and Starlette too under ``--asgi``.
    """
    cls = _bad_request_class(
        "werkzeug.exceptions" in sys.modules, "starlette.exceptions" in sys.modules
    )
    return cls(exc.reason, field=exc.field)


_REGISTERED = "veba_sdk.gcf.precheck"


def _legacy_background_event(headers: dict[str, str], body: bytes) -> bool:
    """A pre-CloudEvents GCF event (JSON with ``context`` or ``eventId``): the framework's."""
    if "ce-specversion" in headers or body.lstrip()[:1] != b"{":
        return False
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(document, dict)
        and "specversion" not in document
        and ("context" in document or "eventId" in document)
    )


def precheck(method: str, headers: dict[str, str], body: bytes, max_body: int) -> Response | None:
    """The 400/413 answer for a request functions-framework's parser should never see.

    Args:
        method: the HTTP method (only ``POST`` is checked; the framework answers the others).
        headers: the request headers, names lower-cased.
        body: the whole body (at most ``max_body + 1`` bytes are needed).
        max_body: the size limit.

    Returns:
        ``None`` when the framework may parse the request (the SDK's decoder takes it, or it
        is a legacy background event the framework converts), else the answer.
    """
    if method != "POST":
        return None
    if len(body) > max_body:
        return too_large(max_body)
    if is_batch(headers.get("content-type")):
        return plain(400, "functions-framework takes one CloudEvent per request, not a batch")
    try:
        decode_http(headers, body, max_body=max_body)
    except Exception as exc:
        return None if _legacy_background_event(headers, body) else undecodable(exc)
    return None


def _check_before_the_framework(max_body: int) -> None:
    """Register :func:`precheck` on the functions-framework Flask app being created, if any."""
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_app_context():
        return
    app = flask.current_app._get_current_object()
    if app.extensions.get(_REGISTERED):
        return
    app.extensions[_REGISTERED] = max_body
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max_body  # chunked bodies: werkzeug stops at it

    def veba_precheck() -> Any:
        request = flask.request
        if request.method != "POST":
            return None
        if request.content_length is not None and request.content_length > max_body:
            answer: Response | None = too_large(max_body)
        else:
            try:
                body = request.get_data(cache=True)
            except Exception as exc:  # a malformed chunked body, a dropped connection
                if getattr(exc, "code", None) == 413:
                    answer = too_large(max_body)
                else:
                    answer = plain(400, f"unreadable request body ({type(exc).__name__})")
            else:
                headers = {key.lower(): value for key, value in request.headers.items()}
                answer = precheck("POST", headers, body, max_body)
        if answer is None:
            return None
        logger.error(
            "rejected a request before functions-framework: %s",
            one_line(answer.body.decode("utf-8", "replace").strip()),
        )
        return flask.Response(answer.body, status=answer.status, headers=answer.headers)

    app.before_request(veba_precheck)


def function(
    router: Dispatcher,
    name: str = "handle",
    *,
    max_body: int = DEFAULT_MAX_BODY,
    auth: Authenticator | None = None,
) -> Callable[[Any], None]:
    """A functions-framework CloudEvent function named ``name`` that dispatches to ``router``.

    Args:
        router: the router whose handlers run.
        name: the function's ``__name__``: the ``--target`` (and the module attribute it is
            assigned to).
        max_body: made inside functions-framework's ``create_app``, bodies over this many
            bytes get 413 before the framework reads them (see :func:`precheck`).
        auth: who may send events (:mod:`veba_sdk.auth`). On Cloud Run functions the
            platform authenticates callers (IAM invoker; Eventarc sends OIDC tokens it
            checks): leave this ``None`` there. Elsewhere, made inside functions-framework's
            ``create_app``, the check runs before the framework reads the request (HMAC:
            before it parses the body); otherwise in the function, on the request Flask is
            serving. Under ``--asgi`` the request cannot be seen and every event gets 401.
            ``None`` reads ``VEBA_AUTH``; unset, every caller is served.

    Returns:
        A real ``types.FunctionType`` taking the framework's ``CloudEvent`` (the
        ``cloudevents`` SDK, 1.x or 2.x, or anything :func:`veba_sdk.from_cloudevent` takes).

    Raises (from the returned function):
        BadCloudEvent: not a decodable vCenter event (the server answers 400).
        HandlerError: a handler raised (the server answers 500).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"the function name must be a Python identifier, not {name!r}")
    checker = resolve(auth)
    setup_logging()
    hooked = checker is not None and _auth_before_the_framework(checker)
    _check_before_the_framework(max_body)

    def handle(cloud_event: Any) -> None:
        if checker is not None and not hooked:
            _check(checker)
        try:
            envelope = from_cloudevent(cloud_event)
        except InvalidEvent as exc:
            logger.error("rejected a CloudEvent that is no vCenter event: %s", one_line(exc.reason))
            raise bad_request(exc) from None
        result = router.dispatch(envelope, platform_context=cloud_event)
        if not result.matched:
            logger.debug(
                "no handler for event %s (id %s)", one_line(envelope.name), one_line(envelope.id)
            )
        result.raise_for_failure()

    handle.__name__ = name
    handle.__qualname__ = name
    handle.__doc__ = f"functions-framework CloudEvent function dispatching to {router!r}."
    return handle


def _auth_before_the_framework(auth: Authenticator) -> bool:
    """Register ``auth``'s check on the functions-framework Flask app being created, first of
    its ``before_request`` hooks; ``False`` when no app is being created."""
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_app_context():
        return False

    def veba_auth() -> Any:
        current = flask.request
        body: bytes | None = None
        if auth.needs_body:
            try:
                body = current.get_data(cache=True)
            except Exception:  # oversized or unreadable: the precheck answers it
                return None
        headers = {key.lower(): value for key, value in current.headers.items()}
        answer = _refused(auth, AuthRequest(current.method, current.path, headers, body))
        if answer is None:
            return None
        return flask.Response(answer.body, status=answer.status, headers=answer.headers)

    flask.current_app._get_current_object().before_request(veba_auth)
    return True


def _refused(auth: Authenticator, request: AuthRequest) -> Response | None:
    return denial_answer(auth.check(request), request)


def _check(auth: Authenticator) -> None:
    """Raise the running server's HTTP exception when ``auth`` refuses the current request."""
    flask = sys.modules.get("flask")
    if flask is not None and flask.has_request_context():
        current = flask.request
        headers = {str(k).lower(): str(v) for k, v in current.headers.items()}
        answer = _refused(
            auth, AuthRequest(current.method, current.path, headers, current.get_data(cache=True))
        )
    else:
        logger.warning("refused an event: the request cannot be checked under --asgi")
        answer = plain(401, "the request cannot be checked under --asgi")
    if answer is not None:
        raise _refusal(answer)


def _refusal(answer: Response) -> Exception:
    """``answer`` as an exception that the frameworks already imported (werkzeug, Starlette:
    both under ``--asgi``) answer with its status, reason and headers."""
    reason = answer.body.decode("utf-8", "replace").strip()
    headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
    bases: list[type] = []
    if "werkzeug.exceptions" in sys.modules:
        from werkzeug.exceptions import HTTPException

        bases.append(HTTPException)
    if "starlette.exceptions" in sys.modules:
        from starlette.exceptions import HTTPException as StarletteHTTPException

        bases.append(StarletteHTTPException)
    if not bases:
        return PermissionError(reason)

    def __init__(self: Any) -> None:
        Exception.__init__(self, reason)
        self.code = self.status_code = answer.status  # werkzeug's and Starlette's names
        self.description = self.detail = reason
        self.response = None
        self.headers = dict(headers)

    def get_body(self: Any, environ: Any = None, scope: Any = None) -> str:
        return reason + "\n"

    def get_headers(self: Any, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return list(answer.headers)

    def __str__(self: Any) -> str:
        return reason

    namespace = {"__init__": __init__, "get_body": get_body, "get_headers": get_headers,
                 "__str__": __str__, "__module__": __name__}  # fmt: skip
    refused: Exception = type("Refused", tuple(bases), namespace)()
    return refused


def serve_metrics(app: Any, router: Router, metrics: bool | PrometheusMetrics = True) -> None:
    """Count ``router``'s events and answer ``GET /metrics`` on a functions-framework (Flask)
    app, as ``veba serve --adapter gcf --metrics`` does.

    functions-framework routes only ``POST`` to a CloudEvent function, so a ``GET`` rule of
    the app's own serves the samples beside it.
    """
    from ..metrics import resolve_metrics  # only a metered app loads prometheus_client

    registry = resolve_metrics(metrics)
    if registry is None:
        raise ValueError("serve_metrics needs metrics=True or a PrometheusMetrics")
    registry.observe(router)

    def metrics_view() -> tuple[bytes, int, dict[str, str]]:
        from flask import request

        body, content_type = registry.exposition(request.headers.get("Accept"))
        return body, 200, {"Content-Type": content_type}

    app.add_url_rule(METRICS_PATH, "veba_metrics", metrics_view, methods=["GET"])
