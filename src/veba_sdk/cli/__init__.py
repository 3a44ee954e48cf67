"""The ``veba`` command line.

Each command lives in its own module of this package exposing a click ``command``; adding one
(``veba listen``) is one line in :data:`COMMANDS`. click is imported only when :func:`main`
runs, so the helpers here that platform images use (:mod:`veba_sdk.cli.openfaas_wsgi`) import
without the ``cli`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

#: Command modules of ``veba_sdk.cli``, in ``--help`` order.
COMMANDS: tuple[str, ...] = ("serve", "send", "events", "manifests", "new", "listen")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``veba``; returns the exit status (0 ok, 1 failure, 2 usage error)."""
    from .._errors import MissingExtra

    try:
        from ._main import run
    except MissingExtra as exc:  # installed without the cli extra: say so, in one line
        import sys

        print(f"veba: {exc}", file=sys.stderr)
        return 1
    return run(argv)
