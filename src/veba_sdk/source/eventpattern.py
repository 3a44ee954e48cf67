"""Amazon EventBridge event patterns, matched locally.

VEBA's router matches each event against the pattern of its ``ruleARN`` rule before calling
``PutEvents``, so events no rule wants are never sent (nor billed). :class:`EventPattern`
implements EventBridge's content filtering:

* a pattern is a JSON object whose leaves are lists of matchers; a field matches when any
  of its values (an array field: any element) matches any matcher of the list; all fields
  of a pattern must match; nested objects nest; ``"$or": [pattern, ...]`` matches when one
  of its patterns does;
* matchers: literal strings, numbers (compared as numbers), ``true``/``false``/``null``;
  ``{"prefix": s}``, ``{"suffix": s}`` (either may be ``{"equals-ignore-case": s}``),
  ``{"equals-ignore-case": s}``, ``{"wildcard": "a*b"}``, ``{"anything-but": v | [v, ...] |
  {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}}``, ``{"numeric": [">", 0,
  "<=", 5]}``, ``{"exists": true|false}``, ``{"cidr": "10.0.0.0/24"}``;
* a field missing from the event matches only ``{"exists": false}``.

Invalid patterns raise :class:`ValueError` when the pattern is compiled.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["EventPattern"]

_MISSING = object()
Matcher = Callable[[Any], bool]
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _literal(expected: Any) -> Matcher:
    if _is_number(expected):
        return lambda value: _is_number(value) and float(value) == float(expected)
    if isinstance(expected, bool):
        return lambda value: isinstance(value, bool) and value is expected
    if expected is None:
        return lambda value: value is None
    if isinstance(expected, str):
        return lambda value: isinstance(value, str) and value == expected
    raise ValueError(f"unsupported literal {json.dumps(expected)}")


def _wildcard(pattern: Any) -> Matcher:
    if not isinstance(pattern, str):
        raise ValueError("wildcard needs a string")
    if "**" in pattern:
        raise ValueError("wildcard must not contain consecutive '*'")
    parts = re.split(r"(\\\*|\\\\|\*)", pattern)
    regex = "".join(
        ".*" if part == "*" else re.escape(part[1:] if part in ("\\*", "\\\\") else part)
        for part in parts
    )
    compiled = re.compile(regex, re.DOTALL)
    return lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None


def _affix(kind: str, argument: Any) -> Matcher:
    ignore_case = False
    if isinstance(argument, dict):
        if set(argument) != {"equals-ignore-case"}:
            raise ValueError(f"{kind} takes a string or {{'equals-ignore-case': string}}")
        argument, ignore_case = argument["equals-ignore-case"], True
    if not isinstance(argument, str):
        raise ValueError(f"{kind} needs a string")
    text = argument.casefold() if ignore_case else argument

    def match(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        subject = value.casefold() if ignore_case else value
        return subject.startswith(text) if kind == "prefix" else subject.endswith(text)

    return match


def _equals_ignore_case(argument: Any) -> Matcher:
    if not isinstance(argument, str):
        raise ValueError("equals-ignore-case needs a string")
    folded = argument.casefold()
    return lambda value: isinstance(value, str) and value.casefold() == folded


def _anything_but(argument: Any) -> Matcher:
    inner: list[Matcher]
    if isinstance(argument, dict):
        if len(argument) != 1:
            raise ValueError("anything-but takes one of prefix, suffix, equals-ignore-case")
        ((kind, value),) = argument.items()
        values = value if isinstance(value, list) else [value]
        if kind in ("prefix", "suffix"):
            inner = [_affix(kind, item) for item in values]
        elif kind == "equals-ignore-case":
            inner = [_equals_ignore_case(item) for item in values]
        elif kind == "wildcard":
            inner = [_wildcard(item) for item in values]
        else:
            raise ValueError(f"anything-but does not take {kind!r}")
    else:
        values = argument if isinstance(argument, list) else [argument]
        if not values:
            raise ValueError("anything-but needs at least one value")
        inner = [_literal(item) for item in values]
    return lambda value: not any(match(value) for match in inner)


def _numeric(argument: Any) -> Matcher:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        raise ValueError("numeric takes [operator, number, ...]")
    checks: list[tuple[Callable[[float, float], bool], float]] = []
    for operator, bound in zip(argument[::2], argument[1::2], strict=True):
        if operator not in _NUMERIC_OPS or not _is_number(bound):
            raise ValueError(f"numeric: bad comparison {operator!r} {bound!r}")
        checks.append((_NUMERIC_OPS[operator], float(bound)))
    return lambda value: _is_number(value) and all(op(float(value), b) for op, b in checks)


def _cidr(argument: Any) -> Matcher:
    if not isinstance(argument, str):
        raise ValueError("cidr needs a string")
    network = ipaddress.ip_network(argument, strict=False)

    def match(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return match


def _filter(spec: dict[str, Any]) -> Matcher:
    if len(spec) != 1:
        raise ValueError(f"a filter has exactly one key: {json.dumps(spec)}")
    ((kind, argument),) = spec.items()
    if kind in ("prefix", "suffix"):
        return _affix(kind, argument)
    if kind == "equals-ignore-case":
        return _equals_ignore_case(argument)
    if kind == "wildcard":
        return _wildcard(argument)
    if kind == "anything-but":
        return _anything_but(argument)
    if kind == "numeric":
        return _numeric(argument)
    if kind == "cidr":
        return _cidr(argument)
    raise ValueError(f"unknown filter {kind!r}")


class _Leaf:
    """A list of matchers for one field, with ``exists`` handled apart."""

    def __init__(self, specs: list[Any]) -> None:
        if not specs:
            raise ValueError("a pattern field needs at least one value")
        self.exists: bool | None = None
        self.matchers: list[Matcher] = []
        for spec in specs:
            if isinstance(spec, dict) and set(spec) == {"exists"}:
                if not isinstance(spec["exists"], bool):
                    raise ValueError("exists takes true or false")
                self.exists = spec["exists"]
            elif isinstance(spec, dict):
                self.matchers.append(_filter(spec))
            elif isinstance(spec, list):
                raise ValueError("pattern values are not nested lists")
            else:
                self.matchers.append(_literal(spec))

    def match(self, value: Any) -> bool:
        if value is _MISSING:
            return self.exists is False
        if self.exists is True and not isinstance(value, dict):
            return True
        values = value if isinstance(value, list) else [value]
        return any(m(item) for item in values for m in self.matchers)


class _Node:
    """An object pattern: every field (and every ``$or``) must match."""

    def __init__(self, pattern: Any) -> None:
        if not isinstance(pattern, dict) or not pattern:
            raise ValueError("an event pattern is a non-empty JSON object")
        self.fields: list[tuple[str, _Node | _Leaf]] = []
        self.alternatives: list[list[_Node]] = []
        for key, value in pattern.items():
            if key == "$or":
                if not isinstance(value, list) or len(value) < 2:
                    raise ValueError("$or takes a list of at least two patterns")
                self.alternatives.append([_Node(item) for item in value])
            elif isinstance(value, dict):
                self.fields.append((key, _Node(value)))
            elif isinstance(value, list):
                self.fields.append((key, _Leaf(value)))
            else:
                raise ValueError(f"pattern field {key!r} must be a list or an object")

    def match(self, event: Any) -> bool:
        for key, child in self.fields:
            value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
            if isinstance(child, _Node):
                if not any(child.match(item) for item in _objects(value)):
                    return False
            elif not child.match(value):
                return False
        return all(any(node.match(event) for node in group) for group in self.alternatives)


def _objects(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))
    elif isinstance(value, dict):
        yield value
    else:
        yield _MISSING


class EventPattern:
    """A compiled EventBridge event pattern.

    Args:
        pattern: the pattern as JSON text (a rule's ``EventPattern``) or a mapping.

    Raises:
        ValueError: the pattern is not valid EventBridge syntax.
    """

    def __init__(self, pattern: str | dict[str, Any]) -> None:
        self.source = pattern if isinstance(pattern, str) else json.dumps(pattern)
        document = json.loads(pattern) if isinstance(pattern, str) else pattern
        self._root = _Node(document)

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` (an EventBridge event: ``source``, ``detail``, ...) matches."""
        return self._root.match(event)

    def __repr__(self) -> str:
        return f"EventPattern({self.source!r})"
