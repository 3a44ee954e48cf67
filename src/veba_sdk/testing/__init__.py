"""Helpers for testing VEBA functions.

* :func:`make_event` builds a realistic typed event of any of the 443 classes (or an
  EventEx/ExtendedEvent by type id), :func:`make_horizon_event` a Horizon event;
  :func:`to_cloudevent`, :func:`to_eventbridge` and :func:`to_openfaas` wrap it exactly as the
  event router, the VSphereSource or the Horizon source deliver it; :func:`send` posts it;
  :func:`class_for_name` is the model class a producer's event of a name is.
* ``FakeVrops`` is a stateful vROps stand-in.
* :func:`client` delivers events in-process through a platform's own entry (Knative's ASGI
  app, OpenFaaS's ``handle``, the ``lambda_handler``, functions-framework's app) and answers
  a :class:`ClientResponse` that reads the same on every platform.
* The pytest plugin (``veba_sdk.testing.pytest_plugin``, registered as an entry point) gives
  the fixtures ``veba_router``, ``veba_event``, ``fake_vrops``, ``vrops_client`` and
  ``async_vrops_client``.

Everything is imported lazily: importing ``veba_sdk.testing`` does not need httpx (the
``vrops`` extra) unless the fake or :func:`send` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from veba_sdk.testing._client import (
        PLATFORMS,
        ClientResponse,
        FunctionClient,
        LambdaTestContext,
        Platform,
        client,
    )
    from veba_sdk.testing._events import (
        Encoding,
        Mode,
        Producer,
        class_for_name,
        event_name,
        make_event,
        make_horizon_event,
        send,
        to_cloudevent,
        to_eventbridge,
        to_openfaas,
        to_xml,
    )
    from veba_sdk.testing._fake_vrops import FakeVrops

__all__ = [
    "PLATFORMS",
    "ClientResponse",
    "Encoding",
    "FakeVrops",
    "FunctionClient",
    "LambdaTestContext",
    "Mode",
    "Platform",
    "Producer",
    "class_for_name",
    "client",
    "event_name",
    "make_event",
    "make_horizon_event",
    "send",
    "to_cloudevent",
    "to_eventbridge",
    "to_openfaas",
    "to_xml",
]

_CLIENT_NAMES = frozenset(
    {"PLATFORMS", "ClientResponse", "FunctionClient", "LambdaTestContext", "Platform", "client"}
)
_EVENTS_NAMES = frozenset(__all__) - {"FakeVrops"} - _CLIENT_NAMES


def __getattr__(name: str) -> Any:
    if name == "FakeVrops":
        from veba_sdk.testing._fake_vrops import FakeVrops

        return FakeVrops
    if name in _CLIENT_NAMES:
        from veba_sdk.testing import _client

        value = getattr(_client, name)
        globals()[name] = value
        return value
    if name in _EVENTS_NAMES:
        from veba_sdk.testing import _events

        value = getattr(_events, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
