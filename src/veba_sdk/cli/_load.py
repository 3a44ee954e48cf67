"""Finding the user's router: ``MODULE[:ROUTER]`` or ``path/to/file.py[:ROUTER]``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click

import veba_sdk

from .._router import Router
from .._routes import suggest_name

__all__ = ["import_target", "is_path", "load_router", "suggest_event"]


def is_path(name: str) -> bool:
    """A module file (``x.py``, ``./x``, ``../x/handlers.py``, ``/abs/x.py``), not a dotted name."""
    return name.endswith(".py") or "/" in name or (os.sep != "/" and os.sep in name)


def _package_root(directory: Path) -> tuple[Path, list[str]]:
    """The first directory up from ``directory`` that is not a package, and the package names."""
    parts: list[str] = []
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    return directory, parts


def _same_file(module: ModuleType | None, path: Path) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve() == path


def _import_file(text: str) -> tuple[ModuleType, str]:
    """Import a module from its file, its directory first on ``sys.path`` (sibling imports work).

    A file inside a package (``__init__.py`` beside it) is imported by its dotted name, the
    package's parent directory on ``sys.path`` too, so its relative imports work as well; a
    package directory (``./fn``) is imported as that package.
    """
    given = Path(text).expanduser()
    if given.is_dir() and (given / "__init__.py").is_file():
        path = (given / "__init__.py").resolve()  # a package directory: its __init__.py
    else:
        path = Path(text if text.endswith(".py") else text + ".py").expanduser()
        try:
            path = path.resolve(strict=True)
        except OSError:
            raise click.BadParameter(f"no module file {text!r}", param_hint="MODULE") from None
        if not path.is_file():
            raise click.BadParameter(f"{text!r} is not a file", param_hint="MODULE")
    root, packages = _package_root(path.parent)
    name = ".".join(packages if path.name == "__init__.py" else [*packages, path.stem])
    for directory in dict.fromkeys((str(path.parent), str(root))):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    existing = sys.modules.get(name)
    if existing is not None and _same_file(existing, path):
        return existing, name
    # Load this very file under its name (not whatever ``name`` finds first on sys.path), so
    # the command runs the module the user pointed at.
    if path.name == "__init__.py":
        return importlib.import_module(name), name
    if packages:
        importlib.import_module(".".join(packages))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise click.BadParameter(f"cannot import {text!r}", param_hint="MODULE")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module, name


def import_target(module_name: str) -> tuple[ModuleType, str]:
    """Import ``module_name`` (a dotted name, from the current directory first, or a file path).

    Returns the module and the name it was imported as.

    Raises:
        click.BadParameter: the module cannot be found, or it fails to import for a missing
            module or a syntax error (one line, naming the file).
    """
    try:
        if is_path(module_name):
            return _import_file(module_name)
        cwd = os.getcwd()
        if cwd not in sys.path:
            sys.path.insert(0, cwd)
        return importlib.import_module(module_name), module_name
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name) and not is_path(module_name):
            raise click.BadParameter(
                f"no module named {module_name!r} (run from the function's directory, "
                "or give the path to its file)",
                param_hint="MODULE",
            ) from None
        raise click.BadParameter(
            f"importing {module_name!r} failed: no module named {exc.name!r} "
            "(is it installed in this environment?)",
            param_hint="MODULE",
        ) from None
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else module_name
        raise click.BadParameter(
            f"importing {module_name!r} failed: {where}: {exc.msg}", param_hint="MODULE"
        ) from None


def load_router(spec: str) -> Router:
    """Import ``MODULE`` (a dotted name or a file path) and return its router.

    ``MODULE`` is a dotted module name or a path to a module file (absolute, or relative such
    as ``../fn/handlers.py``; the file's directory goes first on ``sys.path`` so its sibling
    imports work). ``MODULE:ATTR`` names the router; without ``:ATTR`` the module's ``router``
    is used, or else ``veba_sdk.router`` (what ``@veba_sdk.on`` registers on).

    Raises:
        click.BadParameter: the module or attribute is missing or not a router.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise click.BadParameter(f"{spec!r}: expected MODULE[:ROUTER]", param_hint="MODULE")
    module, _ = import_target(module_name)
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
            target = veba_sdk.router
    if not isinstance(target, Router):
        raise click.BadParameter(
            f"{spec!r} is a {type(target).__name__}, not a veba_sdk.Router", param_hint="MODULE"
        )
    return target


def suggest_event(name: str) -> str:
    """``"; did you mean 'X'?"`` for an unknown event name (empty when nothing is close)."""
    return suggest_name(name)
