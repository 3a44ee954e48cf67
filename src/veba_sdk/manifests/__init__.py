"""Deployment manifests generated from a router's registered routes.

:func:`generate` picks the platform from the RouterConfig's ``eventProcessor.type`` (or an
explicit ``target``) and returns file names and their text:

========================  =====================================================
``knative``               ``service.yaml`` + ``triggers.yaml`` (one Trigger per subscription)
``openfaas``              ``stack.yml`` (``topic`` annotation)
``aws_event_bridge``      ``template.yaml`` (SAM, ``EventBridgeRule`` pattern)
``gcf``                   ``deploy.sh`` (functions-framework / gcloud command line)
========================  =====================================================

Which producer's events the Knative Triggers select is derived from the inputs
(:func:`choose_producer`): a RouterConfig means the event router, a VSphereSource manifest
(also accepted as ``config``) its VSphereSource, neither the current appliance's VSphereSource.

Output is deterministic: the same routes and options always give the same bytes.
PyYAML is imported only when YAML is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._extras import needs_extra
from ._producer import ProducerChoice, choose_producer, source_broker
from ._selectors import ManifestError, Selector, selectors_for, unsubscribed_routes
from .gcf import gcf_commands
from .knative import (
    DEFAULT_BROKER,
    DEFAULT_DELIVERY,
    DEFAULT_NAMESPACE,
    Delivery,
    knative_manifests,
)
from .openfaas import DEFAULT_GATEWAY, openfaas_stack
from .sam import DEFAULT_EVENT_BUS, event_pattern, rule_arn_subjects, rule_arn_types, sam_template

if TYPE_CHECKING:
    from .._router import Router
    from ..config import RouterConfig, VSphereSource

__all__ = [
    "DEFAULT_DELIVERY",
    "DEFAULT_EVENT_BUS",
    "TARGETS",
    "Delivery",
    "ManifestError",
    "ProducerChoice",
    "Selector",
    "choose_producer",
    "dump_yaml",
    "event_bus_for",
    "event_pattern",
    "gcf_commands",
    "generate",
    "knative_manifests",
    "openfaas_stack",
    "platform_for",
    "rule_arn_subjects",
    "rule_arn_types",
    "sam_template",
    "selectors_for",
    "unsubscribed_routes",
]

# eventProcessor.type (and the CLI's --target spellings) -> platform
TARGETS = {
    "knative": "knative",
    "openfaas": "openfaas",
    "aws_event_bridge": "lambda",
    "lambda": "lambda",
    "gcf": "gcf",
}


def dump_yaml(documents: list[Any] | Any) -> str:
    """YAML text of one document or a ``---``-separated stream, keys in a stable order."""

    with needs_extra("cli", "writing manifests"):
        import yaml

    docs = documents if isinstance(documents, list) else [documents]
    return yaml.safe_dump_all(
        docs, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )


def platform_for(config: RouterConfig | VSphereSource | None, target: str | None) -> str:
    """The platform (``knative``, ``openfaas``, ``lambda``, ``gcf``) to generate for.

    An explicit ``target`` wins; else the RouterConfig's ``eventProcessor.type``; a
    VSphereSource sends to a Knative sink, so it means ``knative``.

    Raises:
        ManifestError: neither given, or a processor type with no generator.
    """
    from ..config import VSphereSource

    if target is not None:
        if target not in TARGETS:
            raise ManifestError(f"unknown target {target!r}: use knative, openfaas, lambda or gcf")
        return TARGETS[target]
    if config is None:
        raise ManifestError("give a RouterConfig (--config) or a target (--target)")
    if isinstance(config, VSphereSource):
        return "knative"
    kind = config.event_processor.type
    if kind not in TARGETS:
        raise ManifestError(f"eventProcessor.type {kind!r} has no manifest generator")
    return TARGETS[kind]


def event_bus_for(config: RouterConfig | VSphereSource | None, event_bus: str | None) -> str:
    """The EventBridge bus: the RouterConfig's ``eventBus``, else ``event_bus`` or ``default``.

    Raises:
        ManifestError: ``event_bus`` contradicts the RouterConfig's.
    """
    from ..config import RouterConfig

    bridge = config.event_processor.aws_event_bridge if isinstance(config, RouterConfig) else None
    if bridge is not None:
        if event_bus is not None and event_bus != bridge.event_bus:
            raise ManifestError(
                f"--event-bus {event_bus!r} is not the RouterConfig's eventBus "
                f"{bridge.event_bus!r}, where the event router puts the events"
            )
        return bridge.event_bus
    return event_bus or DEFAULT_EVENT_BUS


def generate(
    router: Router,
    config: RouterConfig | VSphereSource | None = None,
    *,
    name: str,
    image: str,
    target: str | None = None,
    producer: str | None = None,
    env: Mapping[str, str] | None = None,
    delivery: Delivery | None = DEFAULT_DELIVERY,
    event_bus: str | None = None,
    topics: Sequence[str] = (),
) -> dict[str, str]:
    """Manifests for the processor the config names, as ``{file name: text}``.

    Args:
        router: the router whose routes decide the subscriptions.
        config: a RouterConfig, or a VSphereSource manifest (Knative), or ``None``.
        name: the function's name.
        image: the function's container image (Knative, OpenFaaS).
        target: the platform, instead of the RouterConfig's processor.
        producer: ``"router"`` or ``"vsphere-source"``; ``None`` derives it
            (:func:`choose_producer`).
        env: environment variables for the function.
        delivery: the Knative Triggers' ``spec.delivery`` (``None``: leave it to the Broker).
        event_bus: the EventBridge bus without a RouterConfig (default ``default``, a template
            Parameter either way); with one, its ``eventBus``.
        topics: OpenFaaS: subjects to subscribe beside the routes' names (those of the webhook
            events type routes take; the event router's topic is the subject).

    For Knative, the Triggers go on the Broker the RouterConfig's destination names (event
    router), or the VSphereSource's sink Broker; otherwise on ``default`` in
    ``vmware-functions`` (the appliance's).

    Raises:
        ManifestError: no platform, inputs that contradict each other, or routes the platform
            cannot express.
    """
    from ..config import RouterConfig, VSphereSource

    platform = platform_for(config, target)
    if topics and platform != "openfaas":
        raise ManifestError(f"topics are OpenFaaS subscriptions, not {platform}'s")
    chosen = choose_producer(platform, config, producer).producer
    environment = dict(env or {})
    if platform == "knative":
        assert chosen is not None
        broker, namespace = DEFAULT_BROKER, DEFAULT_NAMESPACE
        if isinstance(config, VSphereSource):
            broker, namespace, _ = source_broker(config)
        elif config is not None and chosen == "router":
            knative = config.event_processor.knative
            ref = knative.destination.ref if knative is not None else None
            if ref is not None and ref.kind == "Broker":
                broker = ref.name
                namespace = ref.namespace or namespace
        docs = knative_manifests(
            router,
            name=name,
            image=image,
            producer=chosen,
            namespace=namespace,
            broker=broker,
            env=environment,
            delivery=delivery,
        )
        return {"service.yaml": dump_yaml(docs[0]), "triggers.yaml": dump_yaml(docs[1:])}
    if platform == "openfaas":
        openfaas = config.event_processor.openfaas if isinstance(config, RouterConfig) else None
        gateway = openfaas.address if openfaas is not None else DEFAULT_GATEWAY
        stack = openfaas_stack(
            router,
            name=name,
            image=image,
            gateway=gateway,
            environment=environment,
            extra_topics=topics,
        )
        return {"stack.yml": dump_yaml(stack)}
    if platform == "lambda":
        template = sam_template(
            router,
            name=name,
            event_bus=event_bus_for(config, event_bus),
            environment=environment,
        )
        return {"template.yaml": dump_yaml(template)}
    return {"deploy.sh": gcf_commands(router, name=name)}
