"""From a path, text or bytes to one parsed document: bounded reads, strict YAML, JSON.

Files are read to at most :data:`MAX_CONFIG_BYTES`; documents nest at most :data:`MAX_DEPTH`
levels (YAML aliases included, measured without expanding them). YAML is read with a
SafeLoader that refuses repeated and unhashable mapping keys and takes merge keys
(``<<: *anchor``) as ``yaml.safe_load`` does. PyYAML is imported only when YAML is read.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from typing import Any

from .._errors import ConfigError
from ._section import type_name

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "check_depth",
    "read_document",
    "template_hint",
]


def template_hint(text: str) -> str:
    """A hint to render the text first when it looks like a Helm or ytt template, else ``""``."""
    if "{{" in text:
        return " (this looks like a Helm template: render it with `helm template` first)"
    if "#@" in text:
        return " (this looks like a ytt template: render it with `ytt` first)"
    return ""


#: The deepest nesting a configuration document may have (a RouterConfig needs 5 levels).
MAX_DEPTH = 64
#: The largest configuration file read, in bytes (a RouterConfig is a few KB).
MAX_CONFIG_BYTES = 1 << 20


def _too_deep() -> ConfigError:
    return ConfigError(f"the document is nested more than {MAX_DEPTH} levels deep")


def check_depth(document: Any) -> None:
    """Refuse a document nested deeper than :data:`MAX_DEPTH` (YAML aliases included).

    Any parsed JSON or YAML value may be given (``veba send`` checks its payloads with it).
    Iterative, and each container is measured once however many aliases share it, so a
    "billion laughs" document costs what its distinct containers cost.

    Raises:
        ConfigError: the document is nested too deep, or contains itself.
    """
    heights: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, Any]] = []

    def children(value: Any) -> Any:
        if isinstance(value, Mapping):
            return iter([*value.keys(), *value.values()])
        return iter(value)

    if not isinstance(document, _CONTAINERS):
        return
    stack.append((document, children(document)))
    on_path.add(id(document))
    while stack:
        node, pending = stack[-1]
        child = next(pending, _DONE)
        if child is _DONE:
            stack.pop()
            on_path.discard(id(node))
            height = 1 + max(
                (heights.get(id(c), 0) for c in children(node) if isinstance(c, _CONTAINERS)),
                default=0,
            )
            if height + len(stack) > MAX_DEPTH:
                raise _too_deep()
            heights[id(node)] = height
            continue
        if not isinstance(child, _CONTAINERS) or id(child) in heights:
            if id(child) in heights and heights[id(child)] + len(stack) > MAX_DEPTH:
                raise _too_deep()
            continue
        if id(child) in on_path:
            raise ConfigError("the document contains itself (a recursive YAML alias)")
        if len(stack) >= MAX_DEPTH:
            raise _too_deep()
        on_path.add(id(child))
        stack.append((child, children(child)))


_DONE = object()
_CONTAINERS = (Mapping, list, tuple)


def _parse_yaml(text: str) -> Any:
    try:
        import yaml  # optional dependency, imported where used
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "reading YAML needs PyYAML: pip install 'veba-sdk[cli]' (or give JSON)"
        ) from exc

    # A SafeLoader that refuses repeated mapping keys (PyYAML silently keeps the last) and
    # unhashable ones, takes merge keys (<<: *anchor) as safe_load does, and bounds nesting
    # while composing (PyYAML's composer recurses once per level).
    strict_loader: Any = type("_StrictLoader", (yaml.SafeLoader,), {"_depth": 0})

    def compose_node(loader: Any, parent: Any, index: Any) -> Any:
        loader._depth += 1
        try:
            if loader._depth > MAX_DEPTH + 1:  # + 1: scalars are nodes too
                raise _too_deep()
            return yaml.SafeLoader.compose_node(loader, parent, index)
        finally:
            loader._depth -= 1

    strict_loader.compose_node = compose_node

    def construct_mapping(loader: yaml.SafeLoader, node: Any, deep: bool = False) -> Any:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merged keys may be overridden by the mapping's own
            key = loader.construct_object(key_node, deep=deep)
            try:
                seen = key in keys
            except TypeError:
                raise ConfigError(
                    f"a mapping key at line {key_node.start_mark.line + 1} is a "
                    f"{type_name(key)}: keys must be text" + template_hint(text)
                ) from None
            if seen:
                raise ConfigError(
                    f"duplicate key {key!r} at line {key_node.start_mark.line + 1}"
                    + template_hint(text)
                )
            keys.add(key)
        return loader.construct_mapping(node, deep=deep)

    strict_loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=strict_loader) if doc is not None]
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"not valid YAML: {reason}{template_hint(text)}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a value's constructor: 13th month...
        reason = " ".join(str(exc).split())[:200]
        raise ConfigError(f"not valid YAML: {type(exc).__name__}: {reason}") from None
    except RecursionError:
        raise _too_deep() from None
    if len(documents) != 1:
        raise ConfigError(f"expected one YAML document, found {len(documents)}")
    check_depth(documents[0])
    return documents[0]


def _parse_text(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except RecursionError:
            raise _too_deep() from None
        except ValueError:
            pass  # YAML flow mappings are not JSON; let the YAML parser report
        else:
            check_depth(document)
            return document
    return _parse_yaml(text)


def _decoded(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where} is not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from None


def _read_source(path_or_text: str | bytes | os.PathLike[str]) -> str:
    if isinstance(path_or_text, bytes):
        return _decoded(path_or_text, "the configuration")
    if isinstance(path_or_text, os.PathLike) or (
        "\n" not in path_or_text
        and not path_or_text.lstrip().startswith("{")
        and (
            os.path.exists(path_or_text)
            or path_or_text.endswith((".yaml", ".yml", ".json"))
            or ": " not in path_or_text  # one line with no "key: value" is no YAML mapping
        )
    ):
        path = os.fspath(path_or_text)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG and isinstance(path_or_text, str):
                return path_or_text  # no file can have that name: it is the document
            shown = path if len(path) <= 200 else path[:200] + "..."
            raise ConfigError(f"cannot read {shown}: {exc.strerror}") from None
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path} is over the {MAX_CONFIG_BYTES} byte limit of a configuration"
            )
        return _decoded(data, path)
    return path_or_text


def read_document(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> tuple[Any, str]:
    """The parsed document and its text (empty for a mapping given as such)."""
    if isinstance(path_or_text, Mapping):
        return path_or_text, ""
    text = _read_source(path_or_text)
    return _parse_text(text), text
