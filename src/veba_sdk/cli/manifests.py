"""``veba manifests``: deployment manifests from a function's routes and a RouterConfig."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from ..wire import HORIZON_ROUTER_PREFIX, HORIZON_SOURCE_PREFIX, TYPE_SUFFIX
from ._kits import TARGETS, Target
from ._load import is_path, load_router
from ._options import producer_option, say
from .serve import log_to_stderr

if TYPE_CHECKING:
    from ..wire import Producer

__all__ = ["command"]

#: How a Knative Trigger's retry delay grows (``--backoff-policy``).
BackoffPolicy = Literal["linear", "exponential"]


def _default_name(target: str) -> str:
    module = target.partition(":")[0]
    module = Path(module).stem if is_path(module) else module.rsplit(".", 1)[-1]
    name = re.sub(r"[^a-z0-9]+", "-", module.lower()).strip("-")
    return f"veba-{name}" if name else "veba-function"


#: Where a pod finds the cluster's CA and its service account token (to fetch the issuer's keys).
_POD_SECRETS = "/var/run/secrets/kubernetes.io/serviceaccount"


def _oidc_env(env: dict[str, str], issuer: str, name: str) -> None:
    """The function's OIDC settings (what --env gives wins), and a word on the subjects."""
    env.setdefault("VEBA_AUTH", "oidc")
    env.setdefault("VEBA_OIDC_ISSUER", issuer)
    env.setdefault("VEBA_OIDC_AUDIENCE", name)
    env.setdefault("VEBA_OIDC_CA_FILE", f"{_POD_SECRETS}/ca.crt")
    env.setdefault("VEBA_OIDC_TOKEN_FILE", f"{_POD_SECRETS}/token")
    if "VEBA_OIDC_SUBJECTS" not in env:
        say(
            "OIDC: any sender with a token for audience "
            f"{env['VEBA_OIDC_AUDIENCE']!r} is served; limit the subjects with "
            "--env VEBA_OIDC_SUBJECTS=system:serviceaccount:<namespace>:*"
        )


@click.command()
@click.argument("target", metavar="MODULE[:ROUTER]")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="The VEBA RouterConfig (its eventProcessor picks the platform; the event router "
    "sends the events), or a VSphereSource manifest (Knative Triggers on its sink Broker).",
)
@click.option(
    "--target",
    "platform",
    type=click.Choice(TARGETS),
    help="Generate for this platform instead of the RouterConfig's processor.",
)
@producer_option(
    "Who sends the events (decides the Knative filters). Default: derived from --config "
    "(RouterConfig: router; VSphereSource: vsphere-source), else vsphere-source (the current "
    "appliance's)."
)
@click.option("--name", help="Function / Service name (default: veba-<module>).")
@click.option("--image", default=None, help="Container image (default: <name>:latest).")
@click.option(
    "--env",
    "env_items",
    multiple=True,
    metavar="KEY=VALUE",
    help="Environment variable for the function (repeatable).",
)
@click.option(
    "--retry",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Knative: delivery retries before an event is dropped or dead-lettered "
    "(VEBA's Broker: 2).",
)
@click.option(
    "--backoff-policy",
    type=click.Choice(["linear", "exponential"]),
    default="linear",
    show_default=True,
    help="Knative: delay grows as delay*n (linear, VEBA's Broker) or delay*2^n.",
)
@click.option(
    "--backoff-delay",
    default="PT1S",
    show_default=True,
    metavar="DURATION",
    help="Knative: ISO 8601 base delay between retries (VEBA's Broker leaves 50 ms).",
)
@click.option(
    "--dead-letter-sink",
    metavar="URL|KIND:NAME[:NS]",
    help="Knative: where events go once retries are spent, a URL or e.g. ksvc:dead-letters "
    "(KIND: ksvc, broker, channel, svc).",
)
@click.option(
    "--no-delivery",
    is_flag=True,
    help="Knative: no spec.delivery on the Triggers (the Broker's own applies).",
)
@click.option(
    "--event-bus",
    help="EventBridge: the bus the rule is on without --config (default: 'default'; the "
    "template's EventBusName parameter either way).",
)
@click.option(
    "--oidc-issuer",
    metavar="URL",
    help="Knative: the function checks the Triggers' OIDC tokens (Eventing's "
    "authentication-oidc) from this service account issuer: sets VEBA_AUTH=oidc and its "
    "variables, and each Trigger's subscriber.audience (VEBA_OIDC_AUDIENCE, default the name).",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="SUBJECT",
    help="OpenFaaS: also subscribe this CloudEvent subject, the topic the event router invokes "
    "by (repeatable): the subjects of the webhook events your on_type routes take.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the files here instead of printing them.",
)
def command(
    target: str,
    config_path: str | None,
    platform: Target | None,
    producer: Producer | None,
    name: str | None,
    image: str | None,
    env_items: tuple[str, ...],
    retry: int,
    backoff_policy: BackoffPolicy,
    backoff_delay: str,
    dead_letter_sink: str | None,
    no_delivery: bool,
    event_bus: str | None,
    oidc_issuer: str | None,
    topics: tuple[str, ...],
    out_dir: Path | None,
) -> None:
    """Generate manifests subscribing MODULE's routes on the RouterConfig's processor.

    MODULE is a module name or the path to its file (handlers.py, ../fn/handlers.py).

    \b
    knative           service.yaml + triggers.yaml (one Trigger per subscribed event)
    openfaas          stack.yml (topic annotation)
    aws_event_bridge  template.yaml (SAM, EventBridgeRule pattern)
    gcf               deploy.sh (functions-framework / gcloud)

    Which producer the output targets, and why, is printed on stderr.
    """
    # The generators and the config models (attrs) load only here: `veba --help` needs neither.
    from ..config import RouterConfig, load_config
    from ..manifests import (
        Delivery,
        choose_producer,
        event_bus_for,
        generate,
        platform_for,
        rule_arn_subjects,
        rule_arn_types,
        unsubscribed_routes,
    )

    if config_path is None and platform is None:
        raise click.UsageError(
            "give --config router-config.yaml (or vsphere-source.yaml) or --target PLATFORM"
        )
    env: dict[str, str] = {}
    for item in env_items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--env")
        env[key] = value
    config = load_config(config_path) if config_path is not None else None
    kind = platform_for(config, platform)
    context = click.get_current_context()
    knative_only = [
        f"--{option.replace('_', '-')}"
        for option in ("retry", "backoff_policy", "backoff_delay", "dead_letter_sink")
        if context.get_parameter_source(option) is click.core.ParameterSource.COMMANDLINE
    ] + (["--no-delivery"] if no_delivery else [])
    if kind != "knative" and knative_only:
        raise click.UsageError(f"{', '.join(knative_only)}: Knative Triggers only, not {kind}")
    if event_bus is not None and kind != "lambda":
        raise click.UsageError(f"--event-bus: EventBridge (lambda) only, not {kind}")
    if topics and kind != "openfaas":
        raise click.UsageError(f"--topic: OpenFaaS only, not {kind}")
    if oidc_issuer is not None and kind != "knative":
        raise click.UsageError(f"--oidc-issuer: Knative only, not {kind}")
    chosen = choose_producer(kind, config, producer)
    # Log records go to stderr: an adapter made at import would send them to stdout, the YAML's.
    log_to_stderr("WARNING")
    router = load_router(target)
    name = name or _default_name(target)
    if oidc_issuer is not None:
        _oidc_env(env, oidc_issuer, name)
    delivery = None
    if not no_delivery:
        delivery = Delivery(
            retry=retry,
            backoff_policy=backoff_policy,
            backoff_delay=backoff_delay,
            dead_letter_sink=dead_letter_sink,
        )
    files = generate(
        router,
        config,
        name=name,
        image=image or f"{name}:latest",
        target=platform,
        producer=chosen.producer,
        env=env,
        delivery=delivery,
        event_bus=event_bus,
        topics=topics,
    )
    say(f"the {kind} manifests target {chosen.describe()}")
    typed = {r.pattern for r in router.routes if r.kind in ("type", "type-glob")}
    for pattern, why in unsubscribed_routes(router, kind).items():
        if topics and pattern in typed:
            continue  # the user named the subjects of these events with --topic
        say(f"not subscribed: {pattern!r}: {why}")
    horizon = [r.pattern for r in router.routes if r.kind in ("horizon", "horizon-glob")]
    if kind == "knative" and horizon and not router.defaults:
        say(
            f"Horizon routes ({', '.join(dict.fromkeys(horizon))}): a Trigger for each Horizon "
            f"producer, the event router's ({HORIZON_ROUTER_PREFIX}<type>{TYPE_SUFFIX}) and the "
            f"HorizonSource's ({HORIZON_SOURCE_PREFIX}<type>{TYPE_SUFFIX})"
        )
    if kind == "lambda":
        bus = repr(event_bus_for(config, event_bus))
        if isinstance(config, RouterConfig):
            bus += " (the RouterConfig's eventBus)"
        elif event_bus is None:
            bus += " (no --config or --event-bus)"
        say(
            f"the EventBridge rule is on the template parameter EventBusName, default {bus}; "
            "change it with sam deploy --parameter-overrides EventBusName=..."
        )
        names, patterns = rule_arn_subjects(router)
        listed = ", ".join(names)
        if patterns:
            listed += ("; and " if names else "") + "each event of " + ", ".join(patterns)
            listed += " by its full name"
        if names or patterns:
            say(
                "the event router forwards only the subjects its ruleARN rule lists in "
                f"detail.subject, exactly: list {listed} there"
            )
        types = rule_arn_types(router)
        if types:
            say(
                "the ruleARN rule must also let the type routes' events through by detail.type "
                f"({', '.join(types)}), and EventBridge takes them only with a subject "
                "(their DetailType)"
            )
    if out_dir is None:
        for index, (file_name, text) in enumerate(files.items()):
            if len(files) > 1:
                click.echo(("---\n" if index else "") + f"# {file_name}")
            click.echo(text, nl=not text.endswith("\n"))
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8")
        click.echo(str(path))
