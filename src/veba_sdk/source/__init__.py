"""The vCenter event source: run VEBA functions straight from vCenter, without a cluster.

``run_from_config`` reads a RouterConfig whose ``eventProvider`` is ``vcenter`` (or
``vcsim``) and delivers every event either in-process (``deliver=router_target(router)``)
or to its ``eventProcessor``, as VEBA's event router does (:func:`processor_target`):
``knative`` (the ``destination.uri``, or a broker's ingress URL), ``openfaas``
(:class:`OpenFaasTarget`) or ``aws_event_bridge`` (:class:`EventBridgeTarget`). While it
runs, the ``metricsProvider`` serves the router's ``/stats`` (:class:`StatsServer`)::

    from veba_sdk.source import run_from_config, router_target
    run_from_config("router-config.yaml", deliver=router_target(router))

``python -m veba_sdk.source --config router-config.yaml [MODULE[:ROUTER]]`` does the same
from a shell. See docs/source.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veba_sdk._errors import ConfigError
from veba_sdk.config import RouterConfig, load_router_config
from veba_sdk.source.checkpoint import Checkpoint, CheckpointError, CheckpointStore
from veba_sdk.source.delivery import (
    Deliver,
    DeliveryError,
    HttpTarget,
    cloudevent_attributes,
    router_target,
)
from veba_sdk.source.openfaas import OpenFaasTarget
from veba_sdk.source.stats import ProcessorStats, ProviderStats, StatsServer
from veba_sdk.source.vcenter import SourceError, VCenterSource

if TYPE_CHECKING:
    from veba_sdk.source.eventbridge import EventBridgeTarget

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointStore",
    "Deliver",
    "DeliveryError",
    "EventBridgeTarget",
    "HttpTarget",
    "OpenFaasTarget",
    "ProcessorStats",
    "ProviderStats",
    "SourceError",
    "StatsServer",
    "VCenterSource",
    "cloudevent_attributes",
    "processor_target",
    "router_target",
    "run_from_config",
    "source_from_config",
    "stats_server",
]


def __getattr__(name: str) -> Any:
    # boto3 loads only for an EventBridge processor: its module is imported on first use.
    if name == "EventBridgeTarget":
        from veba_sdk.source.eventbridge import EventBridgeTarget

        return EventBridgeTarget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def source_from_config(
    config: Any,
    deliver: Deliver | None = None,
    *,
    producer: str = "router",
    **options: Any,
) -> VCenterSource:
    """Build a :class:`VCenterSource` from a RouterConfig (object, path or text).

    Without ``deliver``, events go to the config's ``eventProcessor``
    (:func:`processor_target`). ``options`` are passed to :class:`VCenterSource`
    (``page_size``, ``poll_interval``, ...).

    Raises:
        ConfigError: the provider is not ``vcenter``/``vcsim``, or no delivery target
            can be derived from the processor.
    """
    if not isinstance(config, RouterConfig):
        config = load_router_config(config)
    provider = config.event_provider
    section = provider.vcenter or provider.vcsim
    if provider.type not in ("vcenter", "vcsim") or section is None:
        raise ConfigError(
            f"eventProvider.type: the vCenter event source needs vcenter or vcsim, "
            f"not {provider.type}"
        )
    auth = section.auth.basic_auth
    if auth is None:
        raise ConfigError(
            f"eventProvider.{provider.type}.auth.type: the vCenter event source needs basic_auth"
        )
    if deliver is None:
        deliver = processor_target(config)
    checkpoint_dir = None
    if provider.vcenter is not None and provider.vcenter.checkpoint:
        checkpoint_dir = provider.vcenter.effective_checkpoint_dir
    root_cas = config.certificates.root_cas if config.certificates else ()
    options.setdefault("checkpoint_dir", checkpoint_dir)
    options.setdefault("stats", ProviderStats(provider.type, section.address))
    return VCenterSource(
        section.address,
        username=auth.username,
        password=auth.password,
        deliver=deliver,
        verify=not section.insecure_ssl,
        root_cas=root_cas,
        producer=producer,
        **options,
    )


def processor_target(config: Any, *, broker_url: str | None = None) -> Deliver:
    """The delivery target of a RouterConfig's ``eventProcessor``, as VEBA's router has it.

    * ``knative``: an :class:`HttpTarget` POSTing to ``destination.uri`` in the configured
      ``encoding``; a ``destination.ref`` (a Broker) needs its ingress URL, which resolving
      would take the cluster's API: give it as ``broker_url`` (``veba listen --target``) or
      as an absolute ``destination.uri`` beside the ref.
    * ``openfaas``: an :class:`OpenFaasTarget` on ``address`` (``async``, basic auth).
    * ``aws_event_bridge``: an :class:`EventBridgeTarget` (needs ``veba-sdk[eventbridge]``).

    Raises:
        ConfigError: a Knative ref without a URL, or an EventBridge rule that cannot be used.
    """
    if not isinstance(config, RouterConfig):
        config = load_router_config(config)
    processor = config.event_processor
    if processor.type == "openfaas" and processor.openfaas is not None:
        section = processor.openfaas
        basic = section.auth.basic_auth if section.auth else None
        if section.auth is not None and basic is None:
            raise ConfigError(
                f"eventProcessor.openfaas.auth.type: the gateway takes basic_auth, "
                f"not {section.auth.type}"
            )
        return OpenFaasTarget(
            section.address,
            async_=section.async_,
            username=basic.username if basic else None,
            password=basic.password if basic else None,
        )
    if processor.type == "aws_event_bridge" and processor.aws_event_bridge is not None:
        from veba_sdk.source.eventbridge import EventBridgeTarget

        bridge = processor.aws_event_bridge
        keys = bridge.auth.aws_access_key_auth
        return EventBridgeTarget(
            event_bus=bridge.event_bus,
            region=bridge.region,
            rule_arn=bridge.rule_arn,
            access_key=keys.access_key if keys else None,
            secret_key=keys.secret_key if keys else None,
        )
    knative = processor.knative
    if processor.type != "knative" or knative is None:
        raise ConfigError(f"eventProcessor: no {processor.type} section to deliver to")
    url = broker_url or knative.destination.uri
    if not url:
        ref = knative.destination.ref
        what = f"{ref.kind} {ref.namespace or 'default'}/{ref.name}" if ref else "the ref"
        raise ConfigError(
            f"eventProcessor.knative.destination.ref: {what} needs its address, which only "
            "the cluster's API resolves: give its ingress URL with --target (kubectl get "
            "broker NAME -n NAMESPACE -o jsonpath='{.status.address.url}'), or as an "
            "absolute destination.uri beside the ref"
        )
    return HttpTarget(url, encoding=knative.encoding, verify=not knative.insecure_ssl)


def stats_server(config: Any, source: VCenterSource) -> StatsServer | None:
    """A :class:`StatsServer` for the config's ``metricsProvider`` (not started).

    It serves the source's counters and those of its target, when it keeps any. ``None``
    when the config gives no ``bindAddress``.
    """
    if not isinstance(config, RouterConfig):
        config = load_router_config(config)
    default = config.metrics_provider.default
    if not default.bind_address:
        return None
    stats: list[ProviderStats | ProcessorStats] = [source.stats]
    target_stats = getattr(source.deliver, "stats", None)
    if isinstance(target_stats, ProcessorStats):
        stats.append(target_stats)
    basic = default.auth.basic_auth if default.auth else None
    return StatsServer(
        default.bind_address,
        stats,
        username=basic.username if basic else None,
        password=basic.password if basic else None,
    )


def run_from_config(
    config: Any,
    deliver: Deliver | None = None,
    *,
    producer: str = "router",
    handle_signals: bool = True,
    metrics: bool = True,
    **options: Any,
) -> VCenterSource:
    """Build the source with :func:`source_from_config` and run it until stopped.

    With ``metrics`` (the default), the ``metricsProvider``'s ``/stats`` and ``/metrics``
    are served meanwhile (:func:`stats_server`). Returns the stopped source (its
    ``delivered`` and ``reconnects`` counters).

    Raises:
        ConfigError: as :func:`source_from_config`, or the ``bindAddress`` cannot be bound.
    """
    if not isinstance(config, RouterConfig):
        config = load_router_config(config)
    source = source_from_config(config, deliver, producer=producer, **options)
    server = stats_server(config, source) if metrics else None
    try:
        if server is not None:
            try:
                server.start()
            except OSError as exc:
                raise ConfigError(
                    f"metricsProvider.default.bindAddress: cannot listen on "
                    f"{config.metrics_provider.default.bind_address}: {exc.strerror or exc}"
                ) from None
        source.run(handle_signals=handle_signals)
    finally:
        if server is not None:
            server.close()
        close = getattr(source.deliver, "close", None)
        if callable(close):
            close()
    return source
