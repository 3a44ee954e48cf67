"""Building vROps requests: query parameters, bodies and checked path segments."""

from __future__ import annotations

import datetime as dt
import math
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from veba_sdk.vrops._call import Call
from veba_sdk.vrops._options import Severity
from veba_sdk.vrops._responses import page_params

__all__ = [
    "MIN_EVENT_MS",
    "MOREF",
    "ResourceQuery",
    "alert_query_body",
    "epoch_ms",
    "ids_params",
    "maintained_params",
    "property_contents",
    "segment",
    "uuid_like",
]

#: Earliest time vROps accepts for an event (``event.startTimeUTC`` minimum).
MIN_EVENT_MS: Final = 946_684_800_000
#: A vCenter host moref (``host-19``), as opposed to a host name.
MOREF: Final = re.compile(r"^host-\d+$")


def epoch_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (use datetime.timezone.utc)")
    return int(value.timestamp() * 1000)


def maintained_params(
    duration: float | dt.timedelta | None, end: dt.datetime | None
) -> tuple[tuple[str, str], ...]:
    """``duration`` (whole minutes, rounded up) or ``end`` (epoch ms); neither = manual."""
    if duration is not None and end is not None:
        raise ValueError("give duration or end, not both")
    if duration is not None:
        minutes = duration.total_seconds() / 60 if isinstance(duration, dt.timedelta) else duration
        if minutes <= 0:
            raise ValueError("duration must be positive")
        return (("duration", str(math.ceil(minutes))),)
    if end is not None:
        return (("end", str(epoch_ms(end))),)
    return ()


@attrs.frozen(kw_only=True)
class ResourceQuery:
    """What to list: a name (matched partially by the server), kinds, identifiers."""

    name: str | None = None
    adapter_kind: str | None = None
    resource_kind: str | None = None
    identifiers: Mapping[str, str] = attrs.field(factory=dict)

    def call(self, page: int, page_size: int) -> Call:
        """The listing call for one page.

        With both kinds the kind-scoped endpoint is used (it alone accepts
        ``identifiers[...]``); otherwise ``/api/resources``.
        """
        params: list[tuple[str, str]] = []
        if self.adapter_kind and self.resource_kind:
            path = (
                f"/api/adapterkinds/{segment(self.adapter_kind)}"
                f"/resourcekinds/{segment(self.resource_kind)}/resources"
            )
            if self.name is not None:
                params.append(("name", self.name))
            params.extend((f"identifiers[{k}]", v) for k, v in self.identifiers.items())
        else:
            if self.identifiers:
                raise ValueError("identifiers need both adapter_kind and resource_kind")
            path = "/api/resources"
            if self.name is not None:
                params.append(("name", self.name))
            if self.adapter_kind:
                params.append(("adapterKind", self.adapter_kind))
            if self.resource_kind:
                params.append(("resourceKind", self.resource_kind))
        return Call(method="GET", path=path, params=(*params, *page_params(page, page_size)))


def segment(value: str) -> str:
    """One URL path segment; refuses separators so a kind cannot change the path."""
    if not value or "/" in value or value in {".", ".."}:
        raise ValueError(f"invalid path segment: {value!r}")
    return urllib.parse.quote(value, safe="")


def uuid_like(value: str, what: str) -> str:
    if not value or "/" in value or "?" in value:
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def alert_query_body(
    *,
    resource_ids: Sequence[str],
    alert_ids: Sequence[str],
    active_only: bool,
    criticality: Sequence[Severity],
) -> dict[str, Any]:
    """An ``alert-query`` body."""
    body: dict[str, Any] = {"compositeOperator": "AND"}
    if resource_ids:
        body["resource-query"] = {"resourceId": list(resource_ids)}
    if alert_ids:
        body["alertId"] = list(alert_ids)
    if active_only:
        body["activeOnly"] = True
    if criticality:
        body["alertCriticality"] = [c.upper() for c in criticality]
    return body


def property_contents(
    properties: Mapping[str, str | int | float], timestamp_ms: int
) -> dict[str, Any]:
    """A ``property-contents`` body: strings go in ``values``, numbers in ``data``."""
    items: list[dict[str, Any]] = []
    for key, value in properties.items():
        item: dict[str, Any] = {"statKey": key, "timestamps": [timestamp_ms]}
        if isinstance(value, bool):
            item["values"] = ["true" if value else "false"]
        elif isinstance(value, str):
            item["values"] = [value]
        else:
            item["data"] = [float(value)]
        items.append(item)
    return {"property-content": items}


def ids_params(resource_ids: Sequence[str] | str) -> tuple[tuple[str, str], ...]:
    listed = [resource_ids] if isinstance(resource_ids, str) else list(resource_ids)
    ids = tuple(("id", uuid_like(r, "resource id")) for r in listed)
    if not ids:
        raise ValueError("no resource ids given")
    return ids
