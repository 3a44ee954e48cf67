"""``python -m veba_sdk.cli``: the ``veba`` command, where no ``veba`` script is on PATH."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":  # pragma: no branch - run as a module only
    sys.exit(main())
