"""Deployment manifests generated from a router's registered routes.

:func:`generate` picks the platform from the RouterConfig's ``eventProcessor.type`` (or an
explicit ``target``) and returns file names and their text:

========================  =====================================================
``knative``               ``service.yaml`` + ``triggers.yaml`` (one Trigger per subscription)
``openfaas``              ``stack.yml`` (``topic`` annotation)
``aws_event_bridge``      ``template.yaml`` (SAM, ``EventBridgeRule`` pattern)
``gcf``                   ``deploy.sh`` (functions-framework / gcloud command line)
========================  =====================================================

Output is deterministic: the same routes and options always give the same bytes.
PyYAML is imported only when YAML is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._selectors import ManifestError, Selector, selectors_for
from .gcf import gcf_commands
from .knative import DEFAULT_BROKER, DEFAULT_NAMESPACE, knative_manifests
from .openfaas import DEFAULT_GATEWAY, openfaas_stack
from .sam import event_pattern, sam_template

if TYPE_CHECKING:
    from .._router import Router
    from ..config import RouterConfig

__all__ = [
    "TARGETS",
    "ManifestError",
    "Selector",
    "dump_yaml",
    "event_pattern",
    "gcf_commands",
    "generate",
    "knative_manifests",
    "openfaas_stack",
    "sam_template",
    "selectors_for",
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
    from .._extras import needs_extra

    with needs_extra("cli", "writing manifests"):
        import yaml

    docs = documents if isinstance(documents, list) else [documents]
    return yaml.safe_dump_all(
        docs, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )


def _platform(config: RouterConfig | None, target: str | None) -> str:
    if target is not None:
        if target not in TARGETS:
            raise ManifestError(f"unknown target {target!r}: use knative, openfaas, lambda or gcf")
        return TARGETS[target]
    if config is None:
        raise ManifestError("give a RouterConfig (--config) or a target (--target)")
    kind = config.event_processor.type
    if kind not in TARGETS:
        raise ManifestError(f"eventProcessor.type {kind!r} has no manifest generator")
    return TARGETS[kind]


def generate(
    router: Router,
    config: RouterConfig | None = None,
    *,
    name: str,
    image: str,
    target: str | None = None,
    producer: str = "router",
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Manifests for the processor the RouterConfig names, as ``{file name: text}``.

    For Knative with the event router, the Triggers go on the Broker the RouterConfig's
    destination names; otherwise on ``default`` in ``vmware-functions`` (the appliance's).

    Raises:
        ManifestError: no platform, or routes the platform cannot express.
    """
    platform = _platform(config, target)
    environment = dict(env or {})
    if platform == "knative":
        broker, namespace = DEFAULT_BROKER, DEFAULT_NAMESPACE
        knative = config.event_processor.knative if config is not None else None
        ref = knative.destination.ref if knative is not None else None
        if producer == "router" and ref is not None and ref.kind == "Broker":
            broker = ref.name
            namespace = ref.namespace or namespace
        docs = knative_manifests(
            router,
            name=name,
            image=image,
            producer=producer,
            namespace=namespace,
            broker=broker,
            env=environment,
        )
        return {"service.yaml": dump_yaml(docs[0]), "triggers.yaml": dump_yaml(docs[1:])}
    if producer != "router":
        raise ManifestError(f"the {platform} processor receives events from the event router only")
    if platform == "openfaas":
        openfaas = config.event_processor.openfaas if config is not None else None
        gateway = openfaas.address if openfaas is not None else DEFAULT_GATEWAY
        stack = openfaas_stack(
            router, name=name, image=image, gateway=gateway, environment=environment
        )
        return {"stack.yml": dump_yaml(stack)}
    if platform == "lambda":
        bridge = config.event_processor.aws_event_bridge if config is not None else None
        template = sam_template(
            router,
            name=name,
            event_bus=bridge.event_bus if bridge is not None else None,
            environment=environment,
        )
        return {"template.yaml": dump_yaml(template)}
    return {"deploy.sh": gcf_commands(router, name=name)}
