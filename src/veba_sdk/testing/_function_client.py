"""What every in-process test client shares: the response, the Lambda context, the base class.

The platform clients are in :mod:`._platform_clients`, the factory :func:`client` in
:mod:`._client`.
"""

from __future__ import annotations

import abc
import json
import types
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..wire import JSON_MEDIA_TYPE
from ._events import (
    DEFAULT_SOURCE,
    Encoding,
    Mode,
    Producer,
    make_event,
    make_horizon_event,
    to_cloudevent,
)

if TYPE_CHECKING:
    from ..events import Event

__all__ = ["PLATFORMS", "Body", "ClientResponse", "FunctionClient", "LambdaTestContext", "Platform"]

#: A platform :func:`~veba_sdk.testing.client` drives.
Platform = Literal["knative", "openfaas", "lambda", "gcf"]
#: The platforms :func:`~veba_sdk.testing.client` drives.
PLATFORMS: tuple[Platform, ...] = ("knative", "openfaas", "lambda", "gcf")

Body = bytes | str | Mapping[str, Any] | list[Any] | None


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
        producer: Producer | None = None,
        mode: Mode | None = None,
        encoding: Encoding | None = None,
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
        producer: Producer | None,
        mode: Mode | None,
        encoding: Encoding | None,
        source: str,
    ) -> ClientResponse:
        given: dict[str, Any] = {"producer": producer, "mode": mode, "encoding": encoding}
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
    return json.dumps(body).encode("utf-8"), JSON_MEDIA_TYPE


def _with_type(headers: Mapping[str, str] | None, implied: str | None) -> dict[str, str]:
    out = dict(headers or {})
    if implied and not any(k.lower() == "content-type" for k in out):
        out["Content-Type"] = implied
    return out
