"""The ``openfaas`` processor: invoke the OpenFaaS functions subscribed to an event's topic.

What VEBA's event router does (``internal/processor/openfaas`` on OpenFaaS's connector-sdk):

* the topic of an event is its subject, the vCenter class name or EventTypeId
  (``VmPoweredOnEvent``, ``com.vmware.vc.HA.DasHostFailedEvent``); events in the
  VSphereSource shape, which have no subject, use the name in their type;
* functions subscribe with the annotation ``topic: "A,B"`` (comma separated, trimmed);
  the topic map comes from the gateway's ``GET /system/functions``, with the RouterConfig's
  basic auth (only ``/system`` needs it), and is rebuilt every ``refresh_interval`` seconds;
* each subscribed function gets ``POST {gateway}/function/<name>`` (``/async-function/``
  with ``async: true``) whose body is the structured CloudEvent JSON, with no content type
  and no ``ce-*`` headers, and ``X-Topic: <topic>``; 15 s timeout.

Where it does better: the router tries a function three times and then drops the event.
Here 408, 429, 5xx other than 501 and connection errors make :class:`OpenFaasTarget` raise
:class:`~veba_sdk.source.DeliveryError`, and the source retries the event with backoff until
every subscribed function took it: no event is skipped. A retry invokes only the functions
that have not yet accepted the event. A 404 rebuilds the topic map at once and is retried
while the function is still subscribed (it is being deployed). Any other answer (400, 401,
413, 501, ...) is the function's final word: logged as an error, counted as a failure in
``/stats``, and not retried, as in the router.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from veba_sdk._extras import needs_extra
from veba_sdk.source.delivery import DeliveryError, encode_structured
from veba_sdk.source.stats import ProcessorStats
from veba_sdk.wire import TYPE_SUFFIX, VSPHERE_TYPE_PREFIX

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenFaasTarget", "build_topic_map", "event_topic", "is_retryable_status"]

logger = logging.getLogger("veba_sdk.source")


def event_topic(attributes: Mapping[str, Any]) -> str:
    """The OpenFaaS topic of an event: its subject, else the name in a VSphereSource type."""
    subject = attributes.get("subject")
    if subject:
        return str(subject)
    kind = str(attributes.get("type", ""))
    if kind.startswith(VSPHERE_TYPE_PREFIX) and kind.endswith(TYPE_SUFFIX):
        return kind[len(VSPHERE_TYPE_PREFIX) : -len(TYPE_SUFFIX)]
    return kind


def is_retryable_status(status: int) -> bool:
    """Whether an answer is worth retrying: 408, 429 and 5xx other than 501."""
    return status in (408, 429) or (status >= 500 and status != 501)


def build_topic_map(functions: Any, delimiter: str = ",") -> dict[str, tuple[str, ...]]:
    """``{topic: (function, ...)}`` from the gateway's ``/system/functions`` list.

    Functions without a ``topic`` annotation subscribe to nothing; topics are split on
    ``delimiter`` and trimmed, empty ones ignored, as the connector-sdk does.
    """
    if not isinstance(functions, list):
        raise ValueError("expected a JSON list of functions")
    topics: dict[str, list[str]] = {}
    for function in functions:
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            continue
        annotations = function.get("annotations") or {}
        raw = annotations.get("topic") if isinstance(annotations, dict) else None
        if not isinstance(raw, str):
            continue
        for topic in raw.split(delimiter) if delimiter else [raw]:
            topic = topic.strip()
            if topic and function["name"] not in topics.setdefault(topic, []):
                topics[topic].append(function["name"])
    return {topic: tuple(names) for topic, names in topics.items()}


class OpenFaasTarget:
    """A delivery target invoking OpenFaaS functions by topic through the gateway.

    Args:
        address: the gateway, e.g. ``http://gateway.openfaas:8080``.
        async_: invoke ``/async-function/<name>`` (the gateway queues the call, 202).
        username, password: basic auth for ``/system/functions`` (never logged).
        verify: TLS verification for an https gateway (``False`` = ``insecureSSL``).
        timeout: seconds per request (the router's 15).
        refresh_interval: seconds between topic map rebuilds (the router's 10).
        delimiter: separator of topics in the ``topic`` annotation.
        client: an ``httpx.Client`` to use (tests); closed by :meth:`close` only if ours.
    """

    name = "openfaas"

    def __init__(
        self,
        address: str,
        *,
        async_: bool = False,
        username: str | None = None,
        password: str | None = None,
        verify: Any = True,
        timeout: float = 15.0,
        refresh_interval: float = 10.0,
        delimiter: str = ",",
        client: httpx.Client | None = None,
    ) -> None:

        with needs_extra("source", "veba_sdk.source.OpenFaasTarget"):
            import httpx

        if refresh_interval <= 0:
            raise ValueError("refresh_interval must be positive")
        self.address = address.rstrip("/")
        self.async_ = async_
        self.refresh_interval = refresh_interval
        self.delimiter = delimiter
        self._auth = httpx.BasicAuth(username, password or "") if username is not None else None
        self._own_client = client is None
        self._client = client or httpx.Client(verify=verify, timeout=timeout)
        self._lock = threading.Lock()
        self._topics: dict[str, tuple[str, ...]] | None = None
        self._next_refresh = 0.0
        # The event being delivered and the functions that already accepted it.
        self._progress: tuple[str, set[str]] = ("", set())
        self.stats = ProcessorStats(self.name, self.address)

    def __repr__(self) -> str:
        mode = ", async" if self.async_ else ""
        return f"OpenFaasTarget({self.address!r}{mode})"

    # -- topic map -------------------------------------------------------------------------

    def refresh(self) -> dict[str, tuple[str, ...]]:
        """Rebuild the topic map from ``GET /system/functions`` now; returns it.

        Raises:
            DeliveryError: the gateway cannot be reached or did not answer a function list.
        """
        import httpx

        url = f"{self.address}/system/functions"
        try:
            response = self._client.get(url, auth=self._auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"cannot list functions at {url}: {_brief(exc)}") from None
        if response.status_code != 200:
            hint = " (check eventProcessor.openfaas.auth)" if response.status_code == 401 else ""
            raise DeliveryError(
                f"{url} answered {response.status_code}{hint}", status=response.status_code
            )
        try:
            topics = build_topic_map(response.json(), self.delimiter)
        except ValueError as exc:
            raise DeliveryError(f"{url} did not answer a function list: {exc}") from None
        with self._lock:
            changed = topics != self._topics
            self._topics = topics
            self._next_refresh = time.monotonic() + self.refresh_interval
        if changed:
            logger.info(
                "openfaas topic map: %s",
                ", ".join(f"{t} -> {','.join(f)}" for t, f in sorted(topics.items())) or "empty",
            )
        return topics

    def topics(self) -> dict[str, tuple[str, ...]]:
        """The topic map, rebuilt first when older than ``refresh_interval``.

        A failed rebuild keeps the previous map (logged) and is tried again at the next
        interval; with no map yet, it raises :class:`DeliveryError`.
        """
        with self._lock:
            current, due = self._topics, time.monotonic() >= self._next_refresh
        if current is not None and not due:
            return current
        try:
            return self.refresh()
        except DeliveryError as exc:
            if current is None:
                raise
            logger.warning("keeping the previous openfaas topic map: %s", exc)
            with self._lock:
                self._next_refresh = time.monotonic() + self.refresh_interval
            return current

    # -- delivery --------------------------------------------------------------------------

    def _path(self, function: str) -> str:
        kind = "async-function" if self.async_ else "function"
        return f"{self.address}/{kind}/{quote(function, safe='.-_')}"

    def __call__(self, attributes: dict[str, Any], data: bytes | dict[str, Any]) -> None:
        """Invoke every function subscribed to the event's topic.

        Raises:
            DeliveryError: some function must be retried (408, 429, 5xx but 501, 404 while
                still subscribed, connection errors); those that accepted are not invoked
                again when the source retries the same event.
        """
        import httpx

        topic = event_topic(attributes)
        event_id = str(attributes.get("id", ""))
        functions = self.topics().get(topic, ())
        if not functions:
            logger.debug("no openfaas function subscribes to %s", topic)
            return
        if self._progress[0] != event_id:
            self._progress = (event_id, set())
        done = self._progress[1]
        _, body = encode_structured(attributes, data)
        headers = {"X-Topic": topic}
        pending: list[str] = []
        for function in functions:
            if function in done:
                continue
            url = self._path(function)
            try:
                response = self._client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                self.stats.failure(topic)
                pending.append(f"{function}: {_brief(exc)}")
                continue
            status = response.status_code
            if 200 <= status < 300:
                self.stats.success(topic)
                done.add(function)
                logger.debug("openfaas %s took event %s (%d)", function, event_id, status)
                continue
            self.stats.failure(topic)
            if status == 404 and function in self.refresh().get(topic, ()):
                pending.append(f"{function}: 404 (still subscribed; being deployed?)")
            elif status == 404 or not is_retryable_status(status):
                done.add(function)
                logger.error(
                    "openfaas %s rejected event %s (%s) with %d: %s; not retried",
                    function,
                    event_id,
                    topic,
                    status,
                    _body_text(response),
                )
            else:
                pending.append(f"{function}: {status}")
        if pending:
            raise DeliveryError(
                f"openfaas functions of {topic} failed for event {event_id}: " + "; ".join(pending)
            )
        self._progress = ("", set())

    def close(self) -> None:
        """Close the HTTP connection pool (if this target made it)."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> OpenFaasTarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _body_text(response: Any) -> str:
    text = " ".join(response.content[:200].decode("utf-8", "replace").split())
    return json.dumps(text)
