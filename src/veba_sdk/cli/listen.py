"""``veba listen``: feed handlers straight from vCenter, without a cluster.

Runs the vCenter event source of a RouterConfig (``eventProvider.type: vcenter``) until
SIGTERM/SIGINT. With MODULE, events are dispatched in-process to ``MODULE.router`` (or
``MODULE:ROUTER``); without it, they go to the config's ``eventProcessor`` as VEBA's event
router sends them: ``knative`` (``destination.uri``, or a Broker's ingress URL given with
``--target``), ``openfaas`` or ``aws_event_bridge``. ``--target URL`` POSTs CloudEvents there
instead. The ``metricsProvider`` serves ``/stats`` and ``/metrics`` meanwhile
(``--no-metrics`` to not). Also runnable as ``python -m veba_sdk.source``.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from ._load import load_router
from ._options import producer_option, say

__all__ = ["command"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.argument("module", required=False)
@click.option(
    "--target",
    help="POST CloudEvents to this URL instead of the config's processor (for a Knative "
    "destination.ref to a Broker: the broker's ingress URL).",
)
@producer_option(
    "Whose CloudEvent shape to deliver in. Default: router, as the RouterConfig's event "
    "router would send them."
)
@click.option(
    "--encoding",
    type=click.Choice(["binary", "structured"]),
    default=None,
    help="HTTP mode for --target (default: the config's knative.encoding, else binary).",
)
@click.option("--page-size", type=click.IntRange(1, 1000), default=1000, show_default=True)
@click.option("--poll-interval", type=click.FloatRange(min=0.001), default=0.1, show_default=True)
@click.option(
    "--no-metrics",
    is_flag=True,
    help="Do not serve the metricsProvider's /stats and /metrics on its bindAddress.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def command(
    config_path: str,
    module: str | None,
    target: str | None,
    producer: str | None,
    encoding: str | None,
    page_size: int,
    poll_interval: float,
    no_metrics: bool,
    verbose: bool,
) -> None:
    """Stream vCenter events from the RouterConfig's vcenter provider to its eventProcessor
    (openfaas, aws_event_bridge, knative) or to MODULE's router, as VEBA's event router."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pyvmomi and the source load only here: `veba --help` stays fast without the extra.
    from veba_sdk._errors import ConfigError
    from veba_sdk.config import VSphereSource, load_config
    from veba_sdk.source import HttpTarget, SourceError, router_target, run_from_config
    from veba_sdk.source.checkpoint import CheckpointError

    try:
        config = load_config(config_path)
        if isinstance(config, VSphereSource):
            raise ConfigError(
                f"{config_path} is a VSphereSource, whose vCenter credentials live in a "
                "Kubernetes secret: give a RouterConfig with eventProvider vcenter (and "
                "--producer vsphere-source to get its events in the VSphereSource's shape)"
            )
        if producer is None:
            producer, why = "router", "--config is a RouterConfig, the event router's"
        else:
            why = "--producer says so"
        say(f"delivering events in the {producer} producer's shape: {why}")
        deliver: Any = None
        if module:
            deliver = router_target(load_router(module))
        elif target:
            knative = config.event_processor.knative
            mode = encoding or (knative.encoding if knative else "binary")
            insecure = bool(knative and knative.insecure_ssl)
            deliver = HttpTarget(target, encoding=mode, verify=not insecure)
        source = run_from_config(
            config,
            deliver,
            producer=producer,
            page_size=page_size,
            poll_interval=poll_interval,
            metrics=not no_metrics,
        )
    except (ConfigError, SourceError, CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"stopped after {source.delivered} events", err=True)


command.name = "listen"
