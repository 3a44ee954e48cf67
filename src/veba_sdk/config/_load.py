"""The loading entry points: a path, text, bytes or mapping in, a validated model out."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._errors import ConfigError
from ._models import KIND, VSPHERE_SOURCE_KIND, RouterConfig, VSphereSource
from ._readers import read_router_config
from ._section import Section, type_name, unknown_first
from ._text import read_document, template_hint
from ._vsphere import read_vsphere_source

__all__ = ["load_config", "load_router_config", "load_vsphere_source"]

_T = TypeVar("_T")


def _validated(document: Any, text: str, reader: Callable[[Section], _T], what: str) -> _T:
    if not isinstance(document, Mapping):
        raise ConfigError(
            f"a {what} must be a mapping, got {type_name(document)}{template_hint(text)}"
        )
    problems: list[str] = []
    root = Section(document, "", problems)
    result = reader(root)
    root.finish()
    if problems:
        raise ConfigError.from_problems(unknown_first(problems), hint=template_hint(text))
    return result


def load_router_config(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> RouterConfig:
    """Parse and validate a RouterConfig.

    ``path_or_text`` is a file path (``str`` or path-like), YAML or JSON text,
    or an already-parsed mapping. Raises :class:`ConfigError` naming every
    invalid field by its dotted path.
    """
    document, text = read_document(path_or_text)
    return _validated(document, text, read_router_config, KIND)


def load_vsphere_source(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> VSphereSource:
    """Parse and validate a ``VSphereSource`` manifest (what the appliance's webhook checks).

    Accepts what :func:`load_router_config` accepts. Checked as the source's admission webhook
    does: ``spec.address`` (an absolute URL), ``spec.secretRef.name`` and ``spec.sink`` (a
    ``ref`` or an absolute ``uri``) are required, ``payloadEncoding`` is ``application/json``
    or ``application/xml``, checkpoint seconds are >= 0; unknown ``spec`` keys are reported
    with a did-you-mean (the CRD would keep them, and the source would ignore a misspelt one).

    Raises:
        ConfigError: naming every invalid field by its dotted path.
    """
    document, text = read_document(path_or_text)
    return _validated(document, text, read_vsphere_source, VSPHERE_SOURCE_KIND)


def load_config(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> RouterConfig | VSphereSource:
    """A RouterConfig or a VSphereSource, by the document's ``kind``.

    A document without ``kind`` is read as a RouterConfig (and reported as one).

    Raises:
        ConfigError: invalid, or of another kind.
    """
    document, text = read_document(path_or_text)
    kind = document.get("kind") if isinstance(document, Mapping) else None
    if kind == VSPHERE_SOURCE_KIND:
        return _validated(document, text, read_vsphere_source, VSPHERE_SOURCE_KIND)
    if kind not in (None, KIND):
        raise ConfigError(f"kind: {kind!r} is neither a {KIND} nor a {VSPHERE_SOURCE_KIND}")
    return _validated(document, text, read_router_config, KIND)
