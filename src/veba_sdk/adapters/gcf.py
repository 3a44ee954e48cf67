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

What the framework decides before the function runs (documented in ``docs/gcf.md``): in the
Flask server a body that is not valid JSON in structured mode is a 500 of the framework's own
making; a request missing required CloudEvent attributes is its 400.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, Protocol, cast

from .._errors import InvalidEvent
from ..events import from_cloudevent
from ..logging import setup as setup_logging

__all__ = ["BadCloudEvent", "bad_request", "function"]

logger = logging.getLogger("veba_sdk.adapters.gcf")


class _Router(Protocol):
    """What the adapter needs of :class:`veba_sdk.Router`."""

    def dispatch(self, event: Any, *, platform_context: Any = None) -> Any: ...


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


def function(router: _Router, name: str = "handle") -> Callable[[Any], None]:
    """A functions-framework CloudEvent function named ``name`` that dispatches to ``router``.

    Args:
        router: the router whose handlers run.
        name: the function's ``__name__``: the ``--target`` (and the module attribute it is
            assigned to).

    Returns:
        A real ``types.FunctionType`` taking the framework's ``CloudEvent`` (the
        ``cloudevents`` SDK, 1.x or 2.x, or anything :func:`veba_sdk.from_cloudevent` takes).

    Raises (from the returned function):
        BadCloudEvent: not a decodable vCenter event (the server answers 400).
        HandlerError: a handler raised (the server answers 500).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"the function name must be a Python identifier, not {name!r}")
    setup_logging()

    def handle(cloud_event: Any) -> None:
        try:
            envelope = from_cloudevent(cloud_event)
        except InvalidEvent as exc:
            logger.error("rejected a CloudEvent that is no vCenter event: %s", exc.reason)
            raise bad_request(exc) from None
        result = router.dispatch(envelope, platform_context=cloud_event)
        if not result.matched:
            logger.debug("no handler for event %s (id %s)", envelope.name, envelope.id)
        result.raise_for_failure()

    handle.__name__ = name
    handle.__qualname__ = name
    handle.__doc__ = f"functions-framework CloudEvent function dispatching to {router!r}."
    return handle
