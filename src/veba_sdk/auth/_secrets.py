"""Secrets from code, environment variables or files (Kubernetes secret volumes)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._errors import ConfigError

__all__ = ["read_setting"]


def read_setting(env: Mapping[str, str], name: str) -> str:
    """``$NAME``, or the content of the file named by ``$NAME_FILE`` (one must be set).

    A file's trailing newline is dropped (``kubectl create secret`` and editors add one).

    Raises:
        ConfigError: both or neither is set, or empty; the file cannot be read.
            The message names the variable, never its value.
    """
    value = env.get(name)
    path = env.get(name + "_FILE")
    if value and path:
        raise ConfigError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                value = handle.read()
        except OSError as exc:
            raise ConfigError(
                f"{name}_FILE names {path!r}, which cannot be read ({exc.strerror})"
            ) from None
        value = value.rstrip("\r\n")
    if not value:
        raise ConfigError(f"{name} (or {name}_FILE) must be set")
    return value


def environ() -> Mapping[str, str]:
    """The process environment (a seam for tests)."""
    return os.environ
