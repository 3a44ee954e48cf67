"""``veba events``: browse the vCenter event catalogue."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

import click

from ._load import suggest_event

if TYPE_CHECKING:
    from ..events import TypeIdInfo

__all__ = ["command"]

# The event models, the catalogue and the testing kit load inside the commands: `veba --help`
# needs none of them.


@click.group()
def command() -> None:
    """Browse the 443 vCenter event classes and the EventEx/ExtendedEvent type ids."""


command.name = "events"


@command.command("list")
@click.argument("pattern", default="*", metavar="[GLOB]")
@click.option(
    "--type-ids",
    "type_ids",
    is_flag=True,
    help="List EventEx/ExtendedEvent type ids (the default for a GLOB with a dot).",
)
def list_events(pattern: str, type_ids: bool) -> None:
    """List event class names, or EventEx/ExtendedEvent type ids, matching GLOB.

    \b
    Case-sensitive, as routes are. A GLOB with a dot lists type ids with their kind,
    description and the releases that define them:
      veba events list 'Vm*Event'
      veba events list 'com.vmware.vc.HA.*'
      veba events list --type-ids '*'
    """
    from ..events import event_class_names, type_id_info
    from ..events.type_ids import matching, releases_text, suggest_type_id_glob

    if type_ids or "." in pattern:
        found = matching(pattern)
        if not found:
            raise click.ClickException(
                f"no EventEx/ExtendedEvent type id matches {pattern!r}"
                f"{suggest_type_id_glob(pattern)}"
            )
        width = max(len(name) for name in found)
        for name in found:
            info = type_id_info(name)
            assert info is not None  # matching() lists catalogued ids only
            click.echo(
                f"{name:<{width}}  {info.kind:<13}  {info.description}"
                f"  [{releases_text(info.releases)}]"
            )
        return
    names = [n for n in event_class_names() if fnmatchcase(n, pattern)]
    if not names:
        raise click.ClickException(f"no event class matches {pattern!r}{suggest_event(pattern)}")
    for name in names:
        click.echo(name)


@command.command("show")
@click.argument("name")
def show_event(name: str) -> None:
    """Show an event class (parents, fields, a sample payload) or a type id (kind,
    description, releases, a sample payload)."""
    from ..events import ancestors, is_event_class, to_dict, type_id_info
    from ..events.catalogue import EVENTS, all_fields
    from ..events.type_ids import suggest_type_id
    from ..testing import make_event

    if not is_event_class(name):
        info = type_id_info(name)
        if info is None:
            suggestion = suggest_type_id(name) if "." in name else suggest_event(name)
            what = "EventEx/ExtendedEvent type id" if "." in name else "vCenter event class"
            raise click.BadParameter(f"{name!r} is no {what}{suggestion}", param_hint="NAME")
        _show_type_id(info)
        click.echo("sample payload (event router / VSphereSource JSON):")
        click.echo(json.dumps(to_dict(make_event(name)), indent=2))
        return
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


def _show_type_id(info: TypeIdInfo) -> None:
    from ..events.type_ids import release_titles, releases_text

    click.echo(f"{info.id}  ({info.kind})")
    click.echo(f"description: {info.description}")
    click.echo(f"releases: {releases_text(info.releases)}")
    titles = release_titles()
    kinds: dict[str, list[str]] = {}
    for release, kind in info.releases:
        kinds.setdefault(release, []).append(kind)
    for release, title in titles.items():
        listed = " and ".join(kinds.get(release, [])) or "-"
        click.echo(f"  {title:<26} {listed}")
