"""``veba events``: browse the vCenter event catalogue."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import click

from ._load import suggest_event

__all__ = ["command"]


@click.group()
def command() -> None:
    """Browse the 443 vCenter event classes."""


command.name = "events"


@command.command("list")
@click.argument("pattern", default="*", metavar="[GLOB]")
def list_events(pattern: str) -> None:
    """List event class names matching GLOB (case-sensitive, e.g. 'Vm*Event')."""
    from ..events import event_class_names

    names = [n for n in event_class_names() if fnmatchcase(n, pattern)]
    if not names:
        raise click.ClickException(f"no event class matches {pattern!r}{suggest_event(pattern)}")
    for name in names:
        click.echo(name)


@command.command("show")
@click.argument("name")
def show_event(name: str) -> None:
    """Show an event class: parents, fields (type, optional, API version) and a sample payload."""
    from ..events import ancestors, is_event_class, to_dict
    from ..events._catalogue import EVENTS
    from ..events._models import all_fields
    from ..testing import make_event

    if not is_event_class(name):
        raise click.BadParameter(
            f"{name!r} is not a vCenter event class{suggest_event(name)}", param_hint="NAME"
        )
    chain = ancestors(name)
    click.echo(f"{name}  (since vSphere API {EVENTS[name][1]})")
    click.echo("parents: " + (" -> ".join(chain[1:]) or "(none)"))
    click.echo("fields:")
    own = {f[0] for f in EVENTS[name][2]}
    rows = [
        (f[1], f[3] + ("?" if f[4] else ""), f[5], "" if f[0] in own else "inherited")
        for f in all_fields(name)
    ]
    width = max(len(r[0]) for r in rows)
    kind_width = max(len(r[1]) for r in rows)
    for wire, kind, since, origin in rows:
        click.echo(f"  {wire:<{width}}  {kind:<{kind_width}}  since {since:<5} {origin}".rstrip())
    click.echo("sample payload (event router / VSphereSource JSON):")
    click.echo(json.dumps(to_dict(make_event(name)), indent=2))
