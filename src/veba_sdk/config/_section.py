"""Reading one mapping of a configuration document: typed getters that record problems.

A :class:`Section` is one mapping being read, with its dotted path (``eventProvider.vcenter``).
Its getters (:meth:`Section.string`, :meth:`Section.boolean`, :meth:`Section.choice`,
:meth:`Section.read` ...) note every problem under the field's path and keep going, so one
pass reports them all; :meth:`Section.finish` reports the keys nobody asked about, each with
the known key it is closest to (:func:`did_you_mean`). :func:`unknown_first` puts those first:
a misspelt key is usually what the other problems follow from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = [
    "UNKNOWN_FIELD",
    "Section",
    "did_you_mean",
    "one_section",
    "type_name",
    "unknown_first",
]

T = TypeVar("T")

#: The reason given for a key no reader asked about.
UNKNOWN_FIELD = "unknown field"

_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def type_name(value: object) -> str:
    """The YAML/JSON name of a value's type (``string``, ``mapping``, ...), for messages."""
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    if isinstance(value, Mapping):
        return "mapping"
    return type(value).__name__


class Section:
    """One mapping being read: records problems under its dotted path, tracks unknown keys."""

    def __init__(self, value: Mapping[str, Any], path: str, problems: list[str]) -> None:
        self.value = value
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()
        self.known: set[str] = set()  # every key this section's reader asked about

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where(key)}: {message}")

    def has(self, key: str) -> bool:
        self.known.add(key)
        return key in self.value

    def get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        self.known.add(key)
        if key not in self.value:
            if required:
                self.problem(key, "required")
            return None
        return self.value[key]

    def string(self, key: str, *, required: bool = True) -> str | None:
        value = self.get(key, required)
        if value is None and key not in self.value:
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {type_name(value)}")
            return None
        return value

    def req_string(self, key: str) -> str:
        return self.string(key) or ""

    def boolean(self, key: str, *, required: bool = True) -> bool:
        value = self.get(key, required)
        if value is None and key not in self.value:
            return False
        if not isinstance(value, bool):
            self.problem(key, f"must be a boolean, got {type_name(value)}")
            return False
        return value

    def choice(
        self,
        key: str,
        choices: tuple[str, ...],
        aliases: Mapping[str, str] | None = None,
    ) -> str:
        value = self.get(key, True)
        if value is None and key not in self.value:
            return ""
        if isinstance(value, str) and aliases and value in aliases:
            return aliases[value]
        if not isinstance(value, str) or value not in choices:
            self.problem(key, f"must be one of {', '.join(choices)}")
            return ""
        return value

    def section(self, key: str, *, required: bool = True) -> Section | None:
        value = self.get(key, required)
        if value is None and key not in self.value:
            return None
        if not isinstance(value, Mapping):
            self.problem(key, f"must be a mapping, got {type_name(value)}")
            return None
        return Section(value, self.where(key), self.problems)

    def read(self, key: str, reader: Callable[[Section], T], *, required: bool = True) -> T | None:
        sub = self.section(key, required=required)
        if sub is None:
            return None
        result = reader(sub)
        sub.finish()
        return result

    def finish(self) -> None:
        for key in self.value:
            if key not in self.seen:
                self.problems.append(
                    f"{self.where(str(key))}: {UNKNOWN_FIELD}{did_you_mean(str(key), self.known)}"
                )


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, change, swap of neighbours) turning ``a`` into ``b``."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


def did_you_mean(key: str, known: set[str]) -> str:
    """`` (did you mean 'address'?)`` for a key close to a known one (case-insensitively)."""
    import difflib  # only for an unknown key: reading a valid document never needs it

    lowered = key.lower()
    scored = []
    for candidate in sorted(known):
        ratio = difflib.SequenceMatcher(None, lowered, candidate.lower()).ratio()
        edits = _edits(lowered, candidate.lower())
        if edits <= max(1, len(key) // 3) or ratio >= 0.8:
            scored.append((edits, -ratio, candidate))
    return f" (did you mean {min(scored)[2]!r}?)" if scored else ""


def unknown_first(problems: list[str]) -> list[str]:
    """Unknown keys first (a misspelt key is usually the cause of the rest), else in order."""
    return sorted(problems, key=lambda p: f": {UNKNOWN_FIELD}" not in p)


def one_section(sec: Section, kind: str, choices: Mapping[str, str]) -> None:
    """Exactly one of the sections in ``choices`` is present, and it is the one ``kind`` names."""
    present = [name for name in choices.values() if sec.has(name)]
    wanted = choices.get(kind)
    if len(present) > 1:
        sec.problems.append(f"{sec.path}: only one of {', '.join(present)} may be set")
    elif wanted is not None and present and present[0] != wanted:
        sec.problems.append(
            f"{sec.path}.{present[0]}: does not match type {kind!r} (expected {wanted})"
        )
