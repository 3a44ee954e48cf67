"""The ``veba`` command line.

Each command lives in its own module of this package exposing a click ``command``; adding one
(``veba listen``) is one line in :data:`COMMANDS` (``_commands.py``). click is imported only
when :func:`main` runs (``_main.py`` holds the click group and imports nothing back from here),
so the helpers here that platform images use (:mod:`veba_sdk.cli.openfaas_wsgi`) import
without the ``cli`` extra.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .._errors import MissingExtra
from ._commands import COMMANDS

__all__ = ["COMMANDS", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``veba``; returns the exit status (0 ok, 1 failure, 2 usage error)."""
    try:
        from ._main import run  # imports click: only when the command runs
    except MissingExtra as exc:  # installed without the cli extra: say so, in one line
        print(f"veba: {exc}", file=sys.stderr)
        return 1
    return run(argv)
