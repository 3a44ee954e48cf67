"""The ``veba`` group: command registration and one-line error reporting."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from .._extras import needs_extra

with needs_extra("cli", "the veba command"):
    import click

from .._errors import VebaError
from ._commands import COMMANDS

__all__ = ["cli", "run"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="veba-sdk", prog_name="veba")
def cli() -> None:
    """Write VMware Event Broker Appliance functions once; run, test and deploy them anywhere."""


for _name in COMMANDS:
    cli.add_command(importlib.import_module(f"{__package__}.{_name}").command, name=_name)


def _fail(message: str, status: int) -> int:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    click.echo(f"veba: error: {first}", err=True)
    if os.environ.get("VEBA_DEBUG"):
        traceback.print_exc()
    return status


def run(argv: Sequence[str] | None = None) -> int:
    """Run the group; errors become one line on stderr (2 for usage, 1 for failures)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Without standalone mode, click returns an Exit's status instead of raising it.
        status = cli.main(args=args, prog_name="veba", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        return _fail("aborted", 1)
    except click.UsageError as exc:
        return _fail(exc.format_message(), 2)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code or 1)
    except (VebaError, OSError, ValueError, KeyError, TypeError) as exc:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        return _fail(text or type(exc).__name__, 1)
    except KeyboardInterrupt:
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover - python -m veba_sdk.cli._main
    sys.exit(run())
