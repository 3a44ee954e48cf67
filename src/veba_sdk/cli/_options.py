"""Command-line options that several ``veba`` commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from ..wire import PRODUCERS

__all__ = ["producer_option", "say"]

F = TypeVar("F", bound=Callable[..., object])


def producer_option(text: str) -> Callable[[F], F]:
    """``--producer router|vsphere-source``; unset (``None``), the command derives it."""
    return click.option(
        "--producer",
        type=click.Choice(PRODUCERS),
        default=None,
        help=text,
    )


def say(message: str) -> None:
    """A note for the user on stderr (stdout stays the command's output, e.g. pure YAML)."""
    click.echo(f"veba: {message}", err=True)
