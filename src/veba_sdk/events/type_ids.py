"""The EventEx and ExtendedEvent type ids vCenter releases define, and suggestions for typos.

The data (``_eventex_ids.py``, generated from each release's event list by
``scripts/generate_eventex_catalogue.py``) is loaded on first use: importing ``veba_sdk`` never
pays for it, only a route on a type id, ``make_event`` of one, or ``veba events``.

The queries (:func:`type_id_info`, :func:`is_type_id`, :func:`matching`, the did-you-mean
suggestions and the release texts) are public: the router, the CLI and the testing kit ask them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import NamedTuple

from .._errors import RouteError

__all__ = [
    "TypeIdInfo",
    "check_type_id_route",
    "close_type_ids",
    "is_type_id",
    "matching",
    "release_titles",
    "releases_text",
    "suggest_type_id",
    "suggest_type_id_glob",
    "type_id_info",
    "type_id_names",
]

_KINDS = ("EventEx", "ExtendedEvent")
_lock = threading.Lock()
_names: tuple[str, ...] | None = None
_lowered: dict[str, str] | None = None


class TypeIdInfo(NamedTuple):
    """What the catalogue knows of one EventEx/ExtendedEvent type id.

    Attributes:
        id: the type id (``"com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"``).
        description: vCenter's description of the event (newest release's wording).
        kind: ``"ExtendedEvent"`` when any release lists the id as one, else ``"EventEx"``:
            the class :func:`veba_sdk.testing.make_event` builds for it.
        releases: each release listing the id, oldest first, as ``(release, kind)``, e.g.
            ``("vsphere-8.0u3", "EventEx")``.
    """

    id: str
    description: str
    kind: str
    releases: tuple[tuple[str, str], ...]


def _table() -> dict[str, tuple[str, int, int]]:
    from ._eventex_ids import TYPE_IDS

    return TYPE_IDS


def release_titles() -> dict[str, str]:
    """Each catalogued release's file name and title, oldest first within each product."""
    from ._eventex_ids import RELEASES

    return {name: title for name, title, _listed, _declared in RELEASES}


def is_type_id(name: str) -> bool:
    """Whether ``name`` is an EventEx/ExtendedEvent type id of some catalogued release."""
    return name in _table()


def type_id_names() -> tuple[str, ...]:
    """Every catalogued type id, sorted."""
    global _names
    if _names is None:
        with _lock:
            if _names is None:
                _names = tuple(sorted(_table()))
    return _names


def type_id_info(name: str) -> TypeIdInfo | None:
    """The catalogue's entry for a type id, or ``None`` when no release defines it."""
    from ._eventex_ids import RELEASES

    row = _table().get(name)
    if row is None:
        return None
    description, eventex, extended = row
    releases = []
    for index, (release, _title, _listed, _declared) in enumerate(RELEASES):
        bit = 1 << index
        if extended & bit:
            releases.append((release, "ExtendedEvent"))
        if eventex & bit:
            releases.append((release, "EventEx"))
    return TypeIdInfo(
        id=name,
        description=description,
        kind="ExtendedEvent" if extended else "EventEx",
        releases=tuple(releases),
    )


def matching(pattern: str) -> list[str]:
    """The catalogued type ids a glob matches (case-sensitive, like routes)."""
    return [name for name in type_id_names() if fnmatchcase(name, pattern)]


def _distance(first: str, second: str) -> int:
    """Edit distance counting a swap of neighbours as one edit (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def close_type_ids(name: str, limit: int = 3) -> list[str]:
    """The catalogued ids closest to ``name``: a case-insensitive match first, then the
    nearest by edit distance (swaps count once) among difflib's close candidates."""
    import difflib

    global _lowered
    if _lowered is None:
        _lowered = {n.lower(): n for n in type_id_names()}
    found: list[str] = []
    same_case = _lowered.get(name.lower())
    if same_case is not None and same_case != name:
        found.append(same_case)
    candidates = difflib.get_close_matches(name, type_id_names(), n=12, cutoff=0.75)
    ranked = sorted(candidates, key=lambda c: (_distance(name, c), -len(c)))
    found += [c for c in ranked if c not in found and _distance(name, c) <= max(3, len(name) // 8)]
    return found[:limit]


def _say(candidates: list[str]) -> str:
    if not candidates:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in candidates) + "?"


def suggest_type_id(name: str) -> str:
    """``"; did you mean 'X'?"`` for an id the catalogue does not know (empty when none is
    close)."""
    return _say(close_type_ids(name))


def suggest_type_id_glob(pattern: str) -> str:
    """``"; did you mean 'X'?"`` for a type-id glob that matches no catalogued id: the same
    glob in the catalogue's letter case, or with its dotted prefix corrected."""
    lowered = pattern.lower()
    if any(fnmatchcase(n.lower(), lowered) for n in type_id_names()):
        # Right but for letter case (com.vmware.vc.ha.*): offer the catalogue's spelling.
        for name in type_id_names():
            if fnmatchcase(name.lower(), lowered):
                fixed = _recase(pattern, name)
                if fixed is not None and matching(fixed):
                    return _say([fixed])
                break
    prefix, rest = _split_glob(pattern)
    cut = prefix.rfind(".") + 1
    dotted, tail = prefix[:cut], prefix[cut:] + rest
    if dotted:
        import difflib

        prefixes = sorted(
            {n[: i + 1] for n in type_id_names() for i, c in enumerate(n) if c == "."}
        )
        for candidate in difflib.get_close_matches(dotted, prefixes, n=5, cutoff=0.75):
            if matching(candidate + tail):
                return _say([candidate + tail])
    return ""


def _split_glob(pattern: str) -> tuple[str, str]:
    for index, char in enumerate(pattern):
        if char in "*?[":
            return pattern[:index], pattern[index:]
    return pattern, ""


def _recase(pattern: str, example: str) -> str | None:
    """``pattern``'s literal dotted prefix re-spelled in ``example``'s letter case."""
    prefix, rest = _split_glob(pattern)
    if not example.lower().startswith(prefix.lower()):
        return None
    return example[: len(prefix)] + rest


def check_type_id_route(pattern: str, is_glob: bool) -> None:
    """Refuse a type-id route the catalogue cannot match, with a did-you-mean.

    Raises:
        RouteError: ``pattern`` is no catalogued id, or a glob matching none.
    """

    escape = " (an id of a newer vCenter, or your own: on(..., uncatalogued=True))"
    if is_glob:
        if not matching(pattern):
            raise RouteError(
                f"glob {pattern!r} matches no EventEx/ExtendedEvent type id of any catalogued "
                f"vCenter release{suggest_type_id_glob(pattern)}{escape}"
            )
    elif not is_type_id(pattern):
        raise RouteError(
            f"{pattern!r} is no EventEx/ExtendedEvent type id of any catalogued vCenter "
            f"release{suggest_type_id(pattern)}{escape}"
        )


def releases_text(releases: Iterable[tuple[str, str]], order: Iterable[str] | None = None) -> str:
    """The releases defining an id, short: ``"vCenter 6.7U3-8.0U3; VMC 1.9-1.20"``.

    Runs of consecutive catalogued releases of a product are one range; others are listed.

    Args:
        releases: ``(release, kind)`` pairs, as in :attr:`TypeIdInfo.releases`.
        order: every release in catalogue order (default: the catalogue's).
    """
    present = {release for release, _kind in releases}
    known = list(release_titles() if order is None else order)
    parts = []
    for product, label in (("vsphere-", "vCenter"), ("vmc-", "VMC")):
        sequence = [r for r in known if r.startswith(product)]
        runs: list[list[int]] = []
        for index, release in enumerate(sequence):
            if release in present:
                if runs and runs[-1][-1] == index - 1:
                    runs[-1].append(index)
                else:
                    runs.append([index])
        if runs:
            spans = []
            for run in runs:
                first = _short(sequence[run[0]], product)
                last = _short(sequence[run[-1]], product)
                spans.append(first if first == last else f"{first}-{last}")
            parts.append(f"{label} {', '.join(spans)}")
    return "; ".join(parts)


def _short(release: str, product: str) -> str:
    version = release[len(product) :]
    return version.upper() if product == "vsphere-" else version
