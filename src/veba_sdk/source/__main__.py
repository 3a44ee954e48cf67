"""``python -m veba_sdk.source --config router-config.yaml [MODULE[:ROUTER]]``: ``veba listen``."""

from __future__ import annotations

from veba_sdk.cli.listen import command

if __name__ == "__main__":
    command(prog_name="python -m veba_sdk.source")
