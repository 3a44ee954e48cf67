"""``veba listen``: feed handlers straight from vCenter, without a cluster.

Runs the vCenter event source of a RouterConfig (``eventProvider.type: vcenter``) until
SIGTERM/SIGINT. With MODULE, events are dispatched in-process to ``MODULE.router`` (or
``MODULE:ROUTER``); without it, they go to the config's ``eventProcessor`` as VEBA's event
router sends them: ``knative`` (``destination.uri``, or a Broker's ingress URL given with
``--target``), ``openfaas`` or ``aws_event_bridge``. ``--target URL`` POSTs CloudEvents there
instead. The ``metricsProvider`` serves ``/stats`` and ``/metrics`` meanwhile
(``--no-metrics`` to not); ``--viewer`` serves the live event viewer on 127.0.0.1 at
``--viewer-port``. Also runnable as ``python -m veba_sdk.source``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from .._errors import ConfigError
from ._load import load_router
from ._options import producer_option, say

if TYPE_CHECKING:
    from ..config import Encoding
    from ..wire import Producer

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
@click.option(
    "--viewer",
    is_flag=True,
    help="Serve the live event viewer on 127.0.0.1:--viewer-port: each event, its delivery "
    "(or, with MODULE, its handlers) and their outcome.",
)
@click.option("--viewer-port", type=click.IntRange(0, 65535), default=8089, show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def command(
    config_path: str,
    module: str | None,
    target: str | None,
    producer: Producer | None,
    encoding: Encoding | None,
    page_size: int,
    poll_interval: float,
    no_metrics: bool,
    verbose: bool,
    viewer: bool = False,
    viewer_port: int = 8089,
) -> None:
    """Stream vCenter events from the RouterConfig's vcenter provider to its eventProcessor
    (openfaas, aws_event_bridge, knative) or to MODULE's router, as VEBA's event router."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pyvmomi, the source and the config models (attrs) load only here: `veba --help` stays
    # fast, and works without the source extra.
    from veba_sdk.config import VSphereSource, load_config
    from veba_sdk.source import HttpTarget, SourceError, router_target, run_from_config
    from veba_sdk.source.checkpoint import CheckpointError

    viewer_server = None
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
        router = None
        if module:
            router = load_router(module)
            deliver = router_target(router)
        elif target:
            knative = config.event_processor.knative
            mode = encoding or (knative.encoding if knative else "binary")
            insecure = bool(knative and knative.insecure_ssl)
            deliver = HttpTarget(target, encoding=mode, verify=not insecure)
        if viewer:
            viewer_server, deliver = _start_viewer(config, deliver, router, viewer_port)
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
    finally:
        if viewer_server is not None:
            viewer_server.close()
    click.echo(f"stopped after {source.delivered} events", err=True)


def _start_viewer(config: Any, deliver: Any, router: Any, port: int) -> tuple[Any, Any]:
    """The viewer's server, started, and the target to deliver to: the router's (which the
    viewer observes) or the processor's, wrapped so each delivery is shown."""
    from veba_sdk.source import processor_target
    from veba_sdk.viewer import EventFeed, ObservedTarget, ViewerObserver, ViewerServer

    feed = EventFeed()
    if router is not None:
        router.add_observer(ViewerObserver(feed))
    else:
        deliver = ObservedTarget(deliver or processor_target(config), feed)
    server = ViewerServer(feed, "127.0.0.1", port)
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"--viewer-port {port}: {exc}") from None
    say(f"event viewer on http://127.0.0.1:{server.port}/")
    return server, deliver


command.name = "listen"
