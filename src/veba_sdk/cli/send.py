"""``veba send``: post sample (or given) events to a function as a VEBA producer would."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from .._errors import ConfigError
from .._extras import needs_extra
from ..wire import DEFAULT_MAX_BODY, HORIZON_NAME_PREFIX
from ._load import suggest_event
from ._options import producer_option, say

if TYPE_CHECKING:
    from ..testing import Encoding, Mode
    from ..wire import Producer

__all__ = ["MAX_FILE_BYTES", "command", "parse_sets"]

# The config package (attrs and its models), the event models, the testing kit, auth and httpx
# are imported inside the functions that use them: `veba --help` needs none of them.

#: The largest ``--file`` read, in bytes: the adapters' body limit (a vCenter event is a few KB).
MAX_FILE_BYTES = DEFAULT_MAX_BODY


def parse_sets(items: tuple[str, ...]) -> dict[str, Any]:
    """``("host.name=esx01", "key=7")`` -> ``{"host__name": "esx01", "key": 7}``.

    Values are read as JSON when they parse (numbers, ``true``, ``null``, objects), else text.
    """
    from ..config import check_depth

    overrides: dict[str, Any] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            raise click.BadParameter(f"{item!r}: expected FIELD.PATH=VALUE", param_hint="--set")
        try:
            value: Any = json.loads(raw)
            check_depth(value)
        except (RecursionError, ConfigError):
            raise click.BadParameter(
                f"{path}: the JSON is nested too deep", param_hint="--set"
            ) from None
        except ValueError:
            value = raw
        overrides[path.strip().replace(".", "__")] = value
    return overrides


def _check_name(name: str, uncatalogued: bool) -> None:
    """Refuse a name no catalogue knows (with suggestions), unless ``--uncatalogued``."""
    from ..events import is_event_class, is_type_id
    from ..events.type_ids import suggest_type_id

    if is_event_class(name) or is_type_id(name):
        return
    if "." in name:
        if not uncatalogued:
            raise click.BadParameter(
                f"{name!r} is no EventEx/ExtendedEvent type id of any catalogued vCenter "
                f"release{suggest_type_id(name)} (--uncatalogued sends it as an EventEx)",
                param_hint="NAME",
            )
        return
    raise click.BadParameter(
        f"{name!r} is not a vCenter event class{suggest_event(name)}", param_hint="NAME"
    )


def _from_file(path: Path, name: str) -> dict[str, Any]:
    """The fields of the event in a payload file (a vCenter event, or a CloudEvent around one)."""
    from ..config import check_depth
    from ..events import parse_event
    from ..testing import class_for_name

    try:
        with open(path, "rb") as handle:  # bounded: --file /dev/zero must not fill memory
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint="--file") from None
    if len(data) > MAX_FILE_BYTES:
        raise click.BadParameter(
            f"{path}: over the {MAX_FILE_BYTES} byte limit of an event payload",
            param_hint="--file",
        )
    try:
        payload = json.loads(data.decode("utf-8"))
        check_depth(payload)
    except (RecursionError, ConfigError):
        raise click.BadParameter(
            f"{path}: the JSON is nested too deep", param_hint="--file"
        ) from None
    except ValueError as exc:  # not UTF-8, not JSON, an integer over 4,300 digits
        reason = " ".join(str(exc).split())[:200]
        raise click.BadParameter(f"{path}: not JSON ({reason})", param_hint="--file") from None
    if isinstance(payload, dict) and "specversion" in payload and "data" in payload:
        payload = payload["data"]
    class_name = class_for_name(name)
    event = parse_event(payload, name=class_name)
    fields = {
        a.name: getattr(event, a.name)
        for a in type(event).__attrs_attrs__
        if a.name not in ("extra", "class_name") and getattr(event, a.name) is not None
    }
    if class_name != name:
        fields["event_type_id"] = name
    return fields


def _signer() -> Any:
    """What signs the requests: the function's own ``VEBA_AUTH`` settings (basic or hmac)."""
    scheme = (os.environ.get("VEBA_AUTH") or "").strip().lower()
    if scheme not in ("basic", "hmac"):
        if scheme == "oidc":
            say("VEBA_AUTH=oidc: veba send cannot mint the cluster's tokens; sent without one")
        return None
    from ..auth import from_env

    try:
        signer = from_env()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    what = "credentials" if scheme == "basic" else "signature"
    say(f"VEBA_AUTH={scheme}: each request carries its {what}")
    return signer


@click.command()
@click.argument("name")
@click.option(
    "--to", "url", default="http://127.0.0.1:8080/", show_default=True, help="The function's URL."
)
@producer_option(
    "Whose CloudEvent shape to send. Default: vsphere-source (the current appliance's), "
    "router with --platform openfaas (VEBA's OpenFaaS processor is the event router's)."
)
@click.option(
    "--mode",
    type=click.Choice(["binary", "structured"]),
    default="binary",
    show_default=True,
    help="CloudEvents HTTP content mode.",
)
@click.option(
    "--encoding",
    type=click.Choice(["json", "xml"]),
    default="json",
    show_default=True,
    help="Data encoding (xml: VSphereSource without payloadEncoding).",
)
@click.option(
    "--platform",
    type=click.Choice(["knative", "openfaas"]),
    default="knative",
    show_default=True,
    help="knative: a CloudEvents request; openfaas: VEBA's OpenFaaS processor's "
    "structured JSON without a CloudEvents content type.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD.PATH=VALUE",
    help="Override a field, e.g. --set host.name=esx01 (repeatable).",
)
@click.option(
    "--file",
    "payload_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Send this event payload (JSON) instead of a generated one.",
)
@click.option(
    "--count",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="How many events to send (each with a fresh key and id).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
@click.option(
    "--uncatalogued",
    is_flag=True,
    help="Send a type id no catalogued vCenter release defines (as an EventEx).",
)
def command(
    name: str,
    url: str,
    producer: Producer | None,
    mode: Mode,
    encoding: Encoding,
    platform: Literal["knative", "openfaas"],
    sets: tuple[str, ...],
    payload_file: Path | None,
    count: int,
    timeout: float,
    uncatalogued: bool,
) -> None:
    """Send the event NAME (a class name or EventEx/ExtendedEvent type id) and print the
    response. A type id is sent as the class its catalogued releases list it as. NAME
    horizon.<TYPE> sends a Horizon event (the Horizon source's shape for vsphere-source).

    \b
    Examples:
      veba send EnteredMaintenanceModeEvent --set host.name=esx01
      veba send com.vmware.vc.HA.ClusterFailoverActionCompletedEvent --producer vsphere-source
      veba send VmPoweredOnEvent --platform openfaas --to http://127.0.0.1:8081/
    """
    with needs_extra("cli", "veba send"):
        import httpx

    from ..testing import make_event, make_horizon_event, send

    horizon = name.startswith(HORIZON_NAME_PREFIX)
    if horizon:
        if payload_file is not None or encoding != "json":
            raise click.UsageError(
                "a Horizon event is sent as made, in JSON (no --file, no --encoding xml)"
            )
        build: Any = make_horizon_event
    else:
        _check_name(name, uncatalogued)
        build = make_event
    overrides = _from_file(payload_file, name) if payload_file is not None else {}
    overrides.update(parse_sets(sets))
    if platform == "openfaas" and (producer not in (None, "router") or encoding != "json"):
        raise click.UsageError("--platform openfaas sends the event router's JSON format only")
    if producer is not None:
        why = "--producer says so"
    elif platform == "openfaas":
        producer, why = "router", "VEBA's OpenFaaS processor is the event router's"
    else:
        producer = "vsphere-source"
        why = (
            "the default: the current appliance (v0.8+) sends vCenter events with its "
            "VSphereSource (--producer router for the event router's shape)"
        )
    say(f"sending {name} in the {producer} producer's shape: {why}")
    signer = _signer()
    failed = 0
    with httpx.Client(timeout=timeout) as client:
        for _ in range(count):
            try:
                event = build(name, **overrides)
            except TypeError as exc:
                raise click.BadParameter(str(exc), param_hint="--set") from None
            try:
                response = send(
                    url,
                    event,
                    producer=producer,
                    mode=mode,
                    encoding=encoding,
                    platform=platform,
                    client=client,
                    auth=signer,
                )
            except httpx.HTTPError as exc:
                raise click.ClickException(f"{url}: {exc or type(exc).__name__}") from None
            body = response.text.strip()
            click.echo(
                f"{response.status_code} {response.reason_phrase}" + (f" {body}" if body else "")
            )
            failed += response.status_code >= 400
    if failed:
        raise click.exceptions.Exit(1)


command.name = "send"
