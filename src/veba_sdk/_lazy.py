"""Names a package exports from submodules loaded on first use.

A package whose submodules pull in something heavy or optional (prometheus_client, redis,
the OIDC machinery) lists where each such name lives; importing the package loads none of
them, and the first ``package.Name`` imports its home and keeps the value.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str], exported: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``.

    Args:
        package: the package's ``__name__``.
        homes: each lazy name to its submodule, relative to the package (``"_redis"``).
        exported: the package's ``__all__``, which ``dir()`` lists with what is loaded.
    """
    names = tuple(exported)

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home.lstrip('.')}"), name)
        setattr(sys.modules[package], name, value)  # the next access is a plain lookup
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
