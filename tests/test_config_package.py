"""The ``veba_sdk.config`` package's surface: its exports, and ``check_depth`` for other parts."""

from __future__ import annotations

from typing import Any

import pytest

import veba_sdk.config
from veba_sdk.config import MAX_DEPTH, ConfigError, check_depth

#: Names importable from veba_sdk.config before it became a package, outside ``__all__``.
CONSTANTS = (
    "AUTH_TYPES",
    "DEFAULT_CHECKPOINT_DIR",
    "ENCODINGS",
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "PAYLOAD_ENCODINGS",
    "PROCESSOR_TYPES",
    "PROVIDER_TYPES",
    "UNKNOWN_FIELD",
    "VSPHERE_SOURCE_API_VERSION",
    "VSPHERE_SOURCE_KIND",
)


def test_every_exported_name_resolves() -> None:
    exported = veba_sdk.config.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert getattr(veba_sdk.config, name) is not None, name
    for name in CONSTANTS:
        assert getattr(veba_sdk.config, name) is not None, name
    assert veba_sdk.config.PAYLOAD_ENCODINGS == ("application/json", "application/xml")
    assert veba_sdk.config.ENCODINGS == ("binary", "structured")


def nested(levels: int) -> Any:
    document: Any = "leaf"
    for _ in range(levels):
        document = [document]
    return document


def test_check_depth_takes_any_parsed_value_up_to_the_limit() -> None:
    check_depth(nested(MAX_DEPTH))
    check_depth({"a": {"b": [1, 2, {"c": None}]}})
    check_depth("text")  # not a container: nothing to measure
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels"):
        check_depth(nested(MAX_DEPTH + 1))


def test_check_depth_measures_shared_containers_once_and_refuses_a_loop() -> None:
    shared: list[Any] = [nested(MAX_DEPTH - 3)]
    check_depth([shared, shared, {"again": shared}])  # MAX_DEPTH levels down the dict
    with pytest.raises(ConfigError, match="nested more than"):
        check_depth([shared, [{"again": shared}]])  # one level more, through the shared list
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(ConfigError, match="contains itself"):
        check_depth(looped)
