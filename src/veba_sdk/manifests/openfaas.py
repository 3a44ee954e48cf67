"""An OpenFaaS ``stack.yml`` from a router's routes.

VEBA's OpenFaaS processor invokes every function whose ``topic`` annotation names the event:
the class name, or the EventEx/ExtendedEvent type id, compared exactly (a comma-separated list
subscribes to several). Topics cannot carry globs or categories, so a route on a type-id glob
or on every EventEx cannot be expressed and is reported rather than silently dropped.

Horizon and type routes are left out (:func:`~._selectors.unsubscribed_routes` says why): the
router's Horizon events have no subject, so their topic is empty and reaches no function (the
connector-sdk ignores empty topics), and a webhook event's topic is the subject its sender set,
which a type route does not name: give those subjects as ``extra`` topics (``veba manifests
--topic``), and the function's type routes select the events once they arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..wire import CATEGORY_FOR_CLASS
from ._selectors import ManifestError, selectors_for, subscribable

if TYPE_CHECKING:
    from .._router import Router

__all__ = ["DEFAULT_GATEWAY", "openfaas_stack", "topics"]

DEFAULT_GATEWAY = "http://gateway.openfaas:8080"


def topics(router: Router, extra: Sequence[str] = ()) -> list[str]:
    """The exact event names the router subscribes to, and the ``extra`` topics, sorted.

    ``extra`` are CloudEvent subjects the router's routes cannot name: those of the webhook
    events its type routes take (the event router's topic is the subject).

    Raises:
        ManifestError: a catch-all, a type-id glob or a whole category (not expressible), only
            Horizon and type routes and no ``extra`` (nothing deliverable), or an ``extra``
            topic that is empty, has a comma or surrounding spaces.
    """
    for topic in extra:
        if not topic or topic != topic.strip() or "," in topic:
            raise ManifestError(
                f"topic {topic!r}: a subject without commas or surrounding spaces "
                "(the connector splits the annotation on commas and trims each topic)"
            )
    names: list[str] = list(extra)
    selectors = (
        [s for s in selectors_for(router) if s.kind == "vcenter"]
        if extra
        else subscribable(router, "openfaas")
    )
    for selector in selectors:
        if selector.everything:
            raise ManifestError(
                "OpenFaaS topics are exact event names: a catch-all route ('*' or a default "
                "handler) cannot be subscribed; route the event names instead"
            )
        if selector.name is None or selector.glob:
            if selector.categories == tuple(CATEGORY_FOR_CLASS.values()) and selector.glob:
                # The type-id side of a class-name glob: nothing concrete to subscribe.
                continue
            raise ManifestError(
                f"OpenFaaS topics are exact event names: {selector.label!r} cannot be "
                "subscribed; list its EventEx/ExtendedEvent type ids instead"
            )
        names.append(selector.name)
    return sorted(set(names))


def openfaas_stack(
    router: Router,
    *,
    name: str,
    image: str,
    gateway: str = DEFAULT_GATEWAY,
    handler: str = ".",
    environment: dict[str, str] | None = None,
    extra_topics: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``stack.yml`` document (provider ``openfaas``, template ``python3-http``).

    ``extra_topics`` are subjects to subscribe beside the routes' names (:func:`topics`).

    Raises:
        ManifestError: the routes cannot be expressed as OpenFaaS topics.
    """
    function: dict[str, Any] = {
        "lang": "python3-http",
        "handler": handler,
        "image": image,
        "annotations": {"topic": ",".join(topics(router, extra_topics))},
    }
    if environment:
        function["environment"] = {k: str(environment[k]) for k in sorted(environment)}
    return {
        "version": "1.0",
        "provider": {"name": "openfaas", "gateway": gateway},
        "functions": {name: function},
    }
