"""Where the event source sends events, and in which producer shape.

A delivery target is any callable ``deliver(attributes, data) -> None`` that raises when the
event was not accepted; the source retries it with backoff until it returns, so an event is
never skipped. Two targets come with the SDK:

* :func:`router_target` dispatches in-process to a :class:`veba_sdk.Router`; a handler
  failure raises :class:`veba_sdk.HandlerError`, so the event is retried.
* :class:`HttpTarget` POSTs a CloudEvent (binary or structured mode) with httpx. Anything but
  a 2xx answer is a failure and is retried, **including 4xx**: a function that rejects an
  event (400, 401, 404, 413, ...) stalls the stream until it is fixed, rather than losing
  the event. Stop the source, fix the function or its URL, and start again: the checkpoint
  resumes at the stalled event.

:func:`cloudevent_attributes` builds the attributes in either producer shape of DESIGN.md
section 1: ``router`` (VEBA's event router, v0.7+: type ``com.vmware.event.router/<class>``,
the name in ``subject``, a random UUID ``id``) or ``vsphere-source`` (appliance v0.8+: type
``com.vmware.vsphere.<name>.v0``, ``id`` = the vCenter event key, extension ``eventclass``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from veba_sdk._errors import VebaError
from veba_sdk.events import http
from veba_sdk.source.stats import ProcessorStats, subject_of
from veba_sdk.wire import (
    JSON_MEDIA_TYPE,
    PRODUCERS,
    Producer,
    router_type,
    vsphere_type,
)

from .._extras import needs_extra

if TYPE_CHECKING:
    import httpx

__all__ = [
    "PRODUCERS",
    "Deliver",
    "DeliveryError",
    "HttpTarget",
    "Producer",
    "cloudevent_attributes",
    "encode_binary",
    "encode_structured",
    "router_target",
]

Deliver = Callable[[dict[str, Any], "bytes | dict[str, Any]"], None]


class DeliveryError(VebaError):
    """A delivery target did not accept an event (the source will retry it).

    ``status`` is the HTTP status that refused it, if any; ``failed_count`` how many events
    of a batch failed (``None``: all of them).
    """

    def __init__(
        self, message: str, *, status: int | None = None, failed_count: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.failed_count = failed_count


def cloudevent_attributes(
    *,
    producer: str,
    name: str,
    category: str,
    key: int,
    created: str,
    source: str,
    api_version: str,
) -> dict[str, Any]:
    """CloudEvent attributes for one vCenter event in the given producer shape.

    ``created`` is the event's ``CreatedTime`` in RFC 3339; ``source`` the vCenter SDK URL.
    """
    if producer == "router":
        return {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": source,
            "type": router_type(category),
            "subject": name,
            "time": created,
            "datacontenttype": JSON_MEDIA_TYPE,
            "vsphereapiversion": api_version,
        }
    if producer == "vsphere-source":
        return {
            "specversion": "1.0",
            "id": str(key),
            "source": source,
            "type": vsphere_type(name),
            "time": created,
            "datacontenttype": JSON_MEDIA_TYPE,
            "eventclass": category,
            "vsphereapiversion": api_version,
        }
    raise ValueError(f"producer must be one of {', '.join(PRODUCERS)}, not {producer!r}")


def encode_binary(
    attributes: Mapping[str, Any], data: bytes | Mapping[str, Any]
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a binary-mode CloudEvents HTTP request carrying JSON ``data``
    (already encoded, or a mapping)."""
    return http.encode_binary({"datacontenttype": JSON_MEDIA_TYPE, **attributes}, data)


def encode_structured(
    attributes: Mapping[str, Any], data: bytes | Mapping[str, Any]
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a structured-mode CloudEvents HTTP request carrying JSON ``data``."""
    return http.encode_structured(attributes, json.loads(data) if isinstance(data, bytes) else data)


class HttpTarget:
    """POST each event to ``url`` as a CloudEvent; any non-2xx answer raises :class:`DeliveryError`.

    ``verify`` is passed to httpx (``True``, ``False`` or an ``ssl.SSLContext``). Use as a
    context manager, or call :meth:`close`. :attr:`stats` counts the POSTs per subject for
    ``/stats``, filed under ``processor`` (``knative`` for a RouterConfig's Knative
    destination or broker).
    """

    def __init__(
        self,
        url: str,
        *,
        encoding: str = "binary",
        verify: Any = True,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        processor: str = "knative",
    ) -> None:

        with needs_extra("source", "veba_sdk.source.HttpTarget"):
            import httpx

        if encoding not in ("binary", "structured"):
            raise ValueError(f"encoding must be binary or structured, not {encoding!r}")
        self.url = url
        self.encoding = encoding
        self._encode = encode_binary if encoding == "binary" else encode_structured
        self._headers = dict(headers or {})
        self._client = client or httpx.Client(verify=verify, timeout=timeout)
        self.stats = ProcessorStats(processor, url)

    def __call__(self, attributes: dict[str, Any], data: bytes | dict[str, Any]) -> None:
        """Send one event; raise :class:`DeliveryError` unless the answer is 2xx."""
        headers, body = self._encode(attributes, data)
        headers.update(self._headers)
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except Exception:
            self.stats.failure(subject_of(attributes))
            raise
        if 200 <= response.status_code < 300:
            self.stats.success(subject_of(attributes))
        else:
            self.stats.failure(subject_of(attributes))
            raise DeliveryError(
                f"{self.url} answered {response.status_code} for event {attributes.get('id')}",
                status=response.status_code,
            )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> HttpTarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpTarget({self.url!r}, encoding={self.encoding!r})"


def router_target(router: Any) -> Deliver:
    """A delivery target that dispatches in-process to ``router`` (a :class:`veba_sdk.Router`).

    The CloudEvent is decoded with :func:`veba_sdk.events.from_cloudevent` exactly as an
    adapter would; if a handler fails, :class:`veba_sdk.HandlerError` is raised and the
    source retries the event. With an idempotency store on the router, a redelivered event
    (after a crash) is recognised and its handlers do not run twice.
    """
    from veba_sdk.events import from_cloudevent

    def deliver(attributes: dict[str, Any], data: bytes | dict[str, Any]) -> None:
        payload = json.loads(data) if isinstance(data, bytes) else data
        envelope = from_cloudevent(attributes, payload)
        router.dispatch(envelope).raise_for_failure()

    deliver.__qualname__ = f"router_target({router!r})"
    return deliver
