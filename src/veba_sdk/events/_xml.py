"""XML event payloads (VSphereSource without ``payloadEncoding``) to lowerCamel mappings.

Parsed with expat directly, so no DOCTYPE or entity declaration is ever accepted (no entity
expansion, no "billion laughs", no external entities), and nesting depth is bounded. The tree is
then read against the catalogue: the field kinds decide which elements are lists, which carry a
ManagedObjectReference (``<host type="HostSystem">host-19</host>``) and which are argument
objects. The result is the same mapping a govmomi >= 0.31 JSON producer would send, and goes
through the same structuring code as JSON.
"""

from __future__ import annotations

from typing import Any

from .._errors import InvalidEvent
from ._catalogue import ARGUMENTS
from ._models import all_fields

__all__ = ["parse_xml", "read_object"]

MAX_DEPTH = 64
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


class _Node:
    __slots__ = ("attrs", "children", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node] = []
        self.text: list[str] = []


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _xsi_type(node: _Node) -> str | None:
    value = node.attrs.get(_XSI + "}type")
    if value is None:
        return None
    return value.rsplit(":", 1)[-1] or None


def _refuse(*_args: Any) -> int:
    raise InvalidEvent("XML payload declares a DOCTYPE or entities, which are not accepted")


def _parse_tree(text: bytes | str) -> _Node:
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise InvalidEvent(f"XML payload is nested deeper than {MAX_DEPTH} levels")
        node = _Node(_local(tag), attrs)
        if stack:
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    # No DOCTYPE at all: internal entities are how "billion laughs" payloads expand.
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) if exc.code else "malformed"
        raise InvalidEvent(
            f"payload is not well-formed XML: {reason} at line {exc.lineno}", field="data"
        ) from None
    if not roots:
        raise InvalidEvent("XML payload has no root element")
    return roots[0]


def _generic(node: _Node) -> Any:
    """An element whose shape the catalogue does not describe, as plain data."""
    if not node.children:
        text = "".join(node.text)
        mo_type = node.attrs.get("type")
        if mo_type is not None:
            return _moref(node, mo_type)
        return text
    out: dict[str, Any] = {}
    xsi = _xsi_type(node)
    if xsi is not None:
        out["_typeName"] = xsi
    groups: dict[str, list[Any]] = {}
    for child in node.children:
        groups.setdefault(child.tag, []).append(_generic(child))
    for tag, values in groups.items():
        out[tag] = values[0] if len(values) == 1 else values
    return out


def _moref(node: _Node, mo_type: str) -> dict[str, Any]:
    mo: dict[str, Any] = {"type": mo_type, "value": "".join(node.text)}
    guid = node.attrs.get("serverGuid")
    if guid is not None:
        mo["serverGuid"] = guid
    return mo


def _value(node: _Node, kind: str) -> Any:
    if kind == "moref" and not node.children:
        return _moref(node, node.attrs.get("type", ""))
    if kind in ARGUMENTS:
        return read_object(node, kind)
    if kind in ("mapping", "any", "moref") or node.children:
        return _generic(node)
    return "".join(node.text)


def read_object(node: _Node, class_name: str) -> dict[str, Any]:
    """Read an element's children as the fields of a catalogue class (lowerCamel keys)."""
    kinds = {f[2]: f[3] for f in all_fields(class_name)}
    out: dict[str, Any] = {}
    unknown: dict[str, list[Any]] = {}
    for child in node.children:
        kind = kinds.get(child.tag)
        if kind is None:
            unknown.setdefault(child.tag, []).append(_generic(child))
        elif kind.startswith("list:"):
            out.setdefault(child.tag, []).append(_value(child, kind[5:]))
        else:
            out[child.tag] = _value(child, kind)
    for tag, values in unknown.items():
        out[tag] = values[0] if len(values) == 1 else values
    return out


def parse_xml(text: bytes | str) -> tuple[_Node, str | None]:
    """Parse an XML event: the root element and the class name it carries, if any.

    The name is the root's ``xsi:type``, else the root element's own name when it looks like
    a class name (``<EnteredMaintenanceModeEvent>``, not ``<event>``).
    """
    root = _parse_tree(text)
    named = _xsi_type(root) or (root.tag if root.tag[:1].isupper() else None)
    return root, named
