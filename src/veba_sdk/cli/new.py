"""``veba new``: scaffold a function project from a platform's deployment kit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import click

from ._kits import KIT_NAME, TARGETS, Target, kit_dir

__all__ = ["command", "scaffold"]

_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_SKIP = {"__pycache__", ".pytest_cache"}


def scaffold(name: str, target: str, directory: Path) -> list[Path]:
    """Copy the kit into ``directory`` with ``name`` filled in; returns the files written.

    Raises:
        click.BadParameter: an invalid name.
        click.ClickException: ``directory`` exists and is not empty.
    """
    if not _NAME.match(name):
        raise click.BadParameter(
            f"{name!r}: use lowercase letters, digits and '-' (a DNS label)", param_hint="NAME"
        )
    if directory.exists() and any(directory.iterdir()):
        raise click.ClickException(f"{directory} exists and is not empty")
    source = kit_dir(target)
    written: list[Path] = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or _SKIP & set(relative.parts) or path.suffix == ".pyc":
            continue
        destination = directory / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            shutil.copyfile(path, destination)
        else:
            destination.write_text(text.replace(KIT_NAME, name), encoding="utf-8")
        shutil.copymode(path, destination)
        written.append(destination)
    return written


@click.command()
@click.argument("name")
@click.option(
    "--target", type=click.Choice(TARGETS), required=True, help="The platform the function runs on."
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to create the project (default: ./NAME).",
)
def command(name: str, target: Target, directory: Path | None) -> None:
    """Create a function project NAME: handler, test, Dockerfile and manifest.

    \b
    Then:
      cd NAME && python -m pytest        # the generated test passes as is
      veba serve handler                 # run it locally (knative)
    """
    directory = directory or Path(name)
    for path in scaffold(name, target, directory):
        click.echo(str(path))


command.name = "new"
