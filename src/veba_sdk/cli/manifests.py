"""``veba manifests``: deployment manifests from a function's routes and a RouterConfig."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ._load import is_path, load_router
from ._options import producer_option

__all__ = ["command"]


def _default_name(target: str) -> str:
    module = target.partition(":")[0]
    module = Path(module).stem if is_path(module) else module.rsplit(".", 1)[-1]
    name = re.sub(r"[^a-z0-9]+", "-", module.lower()).strip("-")
    return f"veba-{name}" if name else "veba-function"


@click.command()
@click.argument("target", metavar="MODULE[:ROUTER]")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="The VEBA RouterConfig; its eventProcessor picks the platform.",
)
@click.option(
    "--target",
    "platform",
    type=click.Choice(["knative", "openfaas", "lambda", "gcf"]),
    help="Generate for this platform instead of the RouterConfig's processor.",
)
@producer_option("Who sends the events (decides the Knative filters).")
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
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the files here instead of printing them.",
)
def command(
    target: str,
    config_path: str | None,
    platform: str | None,
    producer: str,
    name: str | None,
    image: str | None,
    env_items: tuple[str, ...],
    out_dir: Path | None,
) -> None:
    """Generate manifests subscribing MODULE's routes on the RouterConfig's processor.

    \b
    knative           service.yaml + triggers.yaml (one Trigger per subscribed event)
    openfaas          stack.yml (topic annotation)
    aws_event_bridge  template.yaml (SAM, EventBridgeRule pattern)
    gcf               deploy.sh (functions-framework / gcloud)
    """
    from ..config import load_router_config
    from ..manifests import generate

    if config_path is None and platform is None:
        raise click.UsageError("give --config router-config.yaml or --target PLATFORM")
    env: dict[str, str] = {}
    for item in env_items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--env")
        env[key] = value
    config = load_router_config(config_path) if config_path is not None else None
    router = load_router(target)
    name = name or _default_name(target)
    files = generate(
        router,
        config,
        name=name,
        image=image or f"{name}:latest",
        target=platform,
        producer=producer,
        env=env,
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
