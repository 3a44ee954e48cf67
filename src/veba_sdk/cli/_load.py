"""Finding the user's router: ``MODULE[:ROUTER]`` on the command line."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .._router import Router

__all__ = ["load_router", "suggest_event"]


def load_router(spec: str) -> Router:
    """Import ``MODULE`` (from the current directory first) and return its router.

    ``MODULE:ATTR`` names the router; without ``:ATTR`` the module's ``router`` is used, or
    else ``veba_sdk.router`` (what ``@veba_sdk.on`` registers on).

    Raises:
        click.BadParameter: the module or attribute is missing or not a router.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise click.BadParameter(f"{spec!r}: expected MODULE[:ROUTER]", param_hint="MODULE")
    if module_name.endswith(".py"):
        module_name = module_name[:-3].replace(os.sep, ".")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise click.BadParameter(
                f"no module named {module_name!r} (run from the function's directory)",
                param_hint="MODULE",
            ) from None
        raise
    target: Any
    if attribute:
        target = module
        for part in attribute.split("."):
            if not hasattr(target, part):
                raise click.BadParameter(
                    f"module {module_name!r} has no attribute {attribute!r}", param_hint="MODULE"
                )
            target = getattr(target, part)
    else:
        target = getattr(module, "router", None)
        if target is None:
            import veba_sdk

            target = veba_sdk.router
    if not isinstance(target, Router):
        raise click.BadParameter(
            f"{spec!r} is a {type(target).__name__}, not a veba_sdk.Router", param_hint="MODULE"
        )
    return target


def suggest_event(name: str) -> str:
    """``"; did you mean 'X'?"`` for an unknown event name (empty when nothing is close)."""
    from .._router import _suggest

    return _suggest(name)
