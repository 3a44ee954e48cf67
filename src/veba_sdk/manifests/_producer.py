"""Which producer's CloudEvents the manifests select, derived from what the user gave.

VEBA has had two producers of vCenter events (see ``veba_sdk.events``): the event router
(``com.vmware.event.router/event``, the name in ``subject``) up to v0.7, and the appliance
v0.8's VSphereSource (``com.vmware.vsphere.<Name>.v0``). Knative Triggers for the wrong one
match nothing, silently, so the choice is made from the inputs and always stated:

1. an explicit producer wins;
2. a RouterConfig means the event router (it is the router's configuration);
3. a VSphereSource manifest means the VSphereSource (and its sink Broker gets the Triggers);
4. with neither, the current appliance's VSphereSource.

OpenFaaS and EventBridge are event router processors only; functions-framework's
``deploy.sh`` has no filter, so the producer does not change it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ..wire import PRODUCERS
from ._selectors import ManifestError

if TYPE_CHECKING:
    from ..config import RouterConfig, VSphereSource

__all__ = ["ProducerChoice", "choose_producer", "source_broker"]

_ROUTER_ONLY = {"openfaas": "OpenFaaS", "lambda": "EventBridge"}


@attrs.frozen
class ProducerChoice:
    """The producer the output targets (``None``: either, it filters nothing) and why."""

    producer: str | None
    reason: str

    def describe(self) -> str:
        """For one line to the user: ``"the vsphere-source producer (<reason>)"``."""
        target = f"the {self.producer} producer" if self.producer else "either producer"
        return f"{target} ({self.reason})"


def source_broker(source: VSphereSource) -> tuple[str, str, str]:
    """``(broker, namespace, how)`` of a VSphereSource's sink Broker, where the Triggers go.

    The namespace is ``sink.ref.namespace``, else the source's own; a manifest giving neither
    is applied to ``kubectl``'s namespace, taken to be ``default``.

    Raises:
        ManifestError: the sink is not a Broker (the source then posts every event straight
            to it, and no Trigger can select any).
    """
    ref = source.sink.ref
    if ref is None or ref.kind != "Broker":
        sink = f"{ref.kind} {ref.name!r}" if ref is not None else f"the URI {source.sink.uri!r}"
        raise ManifestError(
            f"the VSphereSource's sink is {sink}, not a Broker: it sends every event straight "
            "there, so no Trigger can select them (point its sink at a Broker)"
        )
    if ref.namespace:
        return ref.name, ref.namespace, "sink.ref"
    if source.namespace:
        return ref.name, source.namespace, "the source's metadata.namespace"
    return ref.name, "default", "neither sink.ref nor metadata names a namespace: kubectl's default"


def choose_producer(
    platform: str,
    config: RouterConfig | VSphereSource | None = None,
    explicit: str | None = None,
) -> ProducerChoice:
    """Derive the producer for ``platform`` (``knative``, ``openfaas``, ``lambda``, ``gcf``).

    Raises:
        ManifestError: the inputs contradict each other (a VSphereSource for OpenFaaS, or
            ``vsphere-source`` for a processor only the event router has).
    """
    from ..config import VSphereSource

    if explicit is not None and explicit not in PRODUCERS:
        raise ManifestError(f"unknown producer {explicit!r}: use {' or '.join(PRODUCERS)}")
    is_source = isinstance(config, VSphereSource)
    if platform in _ROUTER_ONLY:
        processor = _ROUTER_ONLY[platform]
        if is_source:
            raise ManifestError(
                f"a VSphereSource sends to a Knative sink, not to {processor}: give the "
                f"RouterConfig of the event router's {processor} processor, or --target knative"
            )
        if explicit == "vsphere-source":
            raise ManifestError(
                f"the {processor} processor receives events from the event router only"
            )
        return ProducerChoice("router", f"the {processor} processor is the event router's")
    if platform == "gcf":
        return ProducerChoice(
            None, "deploy.sh has no event filter; the function takes either producer's events"
        )
    if explicit is not None:
        return ProducerChoice(explicit, "--producer says so")
    if is_source:
        assert isinstance(config, VSphereSource)
        broker, namespace, how = source_broker(config)
        return ProducerChoice(
            "vsphere-source",
            f"--config is a VSphereSource; Triggers on its sink Broker {namespace}/{broker}, "
            f"namespace from {how}",
        )
    if config is not None:
        return ProducerChoice("router", "--config is a RouterConfig, the event router's")
    return ProducerChoice(
        "vsphere-source",
        "the default: the current appliance, v0.8+, delivers vCenter events with its "
        "VSphereSource; --producer router or --config router-config.yaml for the event router",
    )
