"""The names of the ``veba`` command modules, apart from the group that registers them.

:mod:`veba_sdk.cli` (which must import without click) and :mod:`veba_sdk.cli._main` (which
imports click and registers each module's ``command``) both read them from here.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

#: Command modules of ``veba_sdk.cli``, in ``--help`` order.
COMMANDS: tuple[str, ...] = ("serve", "send", "events", "manifests", "new", "listen")
