"""The vCenter event source: run VEBA functions straight from vCenter, without a cluster.

``run_from_config`` reads a RouterConfig whose ``eventProvider`` is ``vcenter`` (or
``vcsim``) and delivers every event either in-process (``deliver=router_target(router)``)
or over HTTP to the Knative ``destination.uri`` of its ``eventProcessor``::

    from veba_sdk.source import run_from_config, router_target
    run_from_config("router-config.yaml", deliver=router_target(router))

``python -m veba_sdk.source --config router-config.yaml [MODULE[:ROUTER]]`` does the same
from a shell. See docs/source.md.
"""

from __future__ import annotations

from typing import Any

from veba_sdk._errors import ConfigError
from veba_sdk.source.checkpoint import Checkpoint, CheckpointError, CheckpointStore
from veba_sdk.source.delivery import (
    Deliver,
    DeliveryError,
    HttpTarget,
    cloudevent_attributes,
    router_target,
)
from veba_sdk.source.vcenter import SourceError, VCenterSource

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointStore",
    "Deliver",
    "DeliveryError",
    "HttpTarget",
    "SourceError",
    "VCenterSource",
    "cloudevent_attributes",
    "router_target",
    "run_from_config",
    "source_from_config",
]


def source_from_config(
    config: Any,
    deliver: Deliver | None = None,
    *,
    producer: str = "router",
    **options: Any,
) -> VCenterSource:
    """Build a :class:`VCenterSource` from a RouterConfig (object, path or text).

    Without ``deliver``, events go over HTTP to ``eventProcessor.knative.destination.uri``
    in the configured ``encoding``, verifying TLS unless ``insecureSSL``. ``options`` are
    passed to :class:`VCenterSource` (``page_size``, ``poll_interval``, ...).

    Raises:
        ConfigError: the provider is not ``vcenter``/``vcsim``, or no delivery target
            can be derived from the processor.
    """
    from veba_sdk.config import RouterConfig, load_router_config

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
        deliver = _http_target(config)
    checkpoint_dir = None
    if provider.vcenter is not None and provider.vcenter.checkpoint:
        checkpoint_dir = provider.vcenter.effective_checkpoint_dir
    root_cas = config.certificates.root_cas if config.certificates else ()
    options.setdefault("checkpoint_dir", checkpoint_dir)
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


def _http_target(config: Any) -> HttpTarget:
    processor = config.event_processor
    knative = processor.knative
    if processor.type != "knative" or knative is None or not knative.destination.uri:
        raise ConfigError(
            "eventProcessor: without an in-process router, the vCenter event source delivers "
            "to eventProcessor.knative.destination.uri only (a Knative ref needs a cluster to "
            f"resolve; {processor.type} is not supported standalone)"
        )
    return HttpTarget(
        knative.destination.uri,
        encoding=knative.encoding,
        verify=not knative.insecure_ssl,
    )


def run_from_config(
    config: Any,
    deliver: Deliver | None = None,
    *,
    producer: str = "router",
    handle_signals: bool = True,
    **options: Any,
) -> VCenterSource:
    """Build the source with :func:`source_from_config` and run it until stopped.

    Returns the stopped source (its ``delivered`` and ``reconnects`` counters).
    """
    source = source_from_config(config, deliver, producer=producer, **options)
    try:
        source.run(handle_signals=handle_signals)
    finally:
        close = getattr(source.deliver, "close", None)
        if callable(close):
            close()
    return source
