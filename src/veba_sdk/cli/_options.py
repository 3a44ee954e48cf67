"""Command-line options that several ``veba`` commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from ..events._envelope import PRODUCERS

__all__ = ["producer_option"]

F = TypeVar("F", bound=Callable[..., object])


def producer_option(text: str) -> Callable[[F], F]:
    """``--producer router|vsphere-source`` (default ``router``): whose CloudEvent shape."""
    return click.option(
        "--producer",
        type=click.Choice(PRODUCERS),
        default="router",
        show_default=True,
        help=text,
    )
