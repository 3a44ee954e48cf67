"""Issue 18, item 6: hostile RouterConfig and CLI input ends in one line, never a traceback.

Measured before: ``printf '[%.0s' {1..100000} > d.yaml; veba listen --config d.yaml`` raised
RecursionError with a 3,000-line traceback; an unhashable key raised TypeError and a binary file
UnicodeDecodeError instead of ConfigError; YAML merge keys (``<<: *x``, which
``yaml.safe_load`` takes) were refused; ``veba send --file`` printed a traceback for deep JSON
and read ``/dev/zero`` until memory ran out.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from veba_sdk._errors import ConfigError
from veba_sdk.config import MAX_CONFIG_BYTES, MAX_DEPTH, load_config, load_router_config

FIXTURES = Path(__file__).parent / "fixtures" / "router-configs"
BASE = (FIXTURES / "dev__event-router-config-vcenter-knative.yaml").read_text()
VEBA = [sys.executable, "-c", "import sys; from veba_sdk.cli import main; sys.exit(main())"]


def _one_line_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(text)
    assert "\n" not in str(info.value)
    return info.value


def _chain(links: int, per_link: int = 60) -> str:
    """Anchors each nesting the previous one ``per_link`` levels deeper: depth links x 60."""
    lines = [f"a0: &a0 {'[' * per_link}x{']' * per_link}"]
    for i in range(1, links):
        lines.append(f"a{i}: &a{i} {'[' * per_link}*a{i - 1}{']' * per_link}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"a":' * 100_000, "{a: " * 100_000, "- " * 5_000 + "x"],
    ids=["yaml-flow-sequences", "json-objects", "yaml-flow-mappings", "yaml-block-sequences"],
)
def test_deep_nesting_is_one_line(text: str) -> None:
    started = time.monotonic()
    error = _one_line_error(text)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(error)
    assert time.monotonic() - started < 10


def test_nesting_at_the_limit_is_read() -> None:
    text = "x: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    error = _one_line_error(text)  # parsed: what fails is the RouterConfig's own check
    assert "nested" not in str(error)
    assert "x: unknown field" in str(error)


def test_depth_through_aliases_is_counted() -> None:
    error = _one_line_error(_chain(30))
    assert "nested more than" in str(error)


def test_a_recursive_alias_is_refused() -> None:
    error = _one_line_error("a: &a [*a]\n")
    assert "contains itself" in str(error)


def test_billion_laughs_costs_only_its_distinct_nodes() -> None:
    lines = ["a0: &a0 [x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 40)]
    started = time.monotonic()
    error = _one_line_error("\n".join(lines) + "\n")
    assert "a0: unknown field" in str(error)
    assert time.monotonic() - started < 5


def test_an_unhashable_key_is_a_config_error() -> None:
    error = _one_line_error("? [a, b]\n: c\n")
    assert "a mapping key at line 1 is a list: keys must be text" in str(error)
    error = _one_line_error("{[1]: 2}\n")
    assert "keys must be text" in str(error)


def test_a_binary_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\x95\x00\xff" * 100)
    error = _one_line_error(str(path))
    assert "is not UTF-8 text" in str(error)
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(b"kind: \xff\n")


def test_a_file_over_the_limit_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    error = _one_line_error(str(path))
    assert "byte limit" in str(error)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_bounded() -> None:
    error = _one_line_error("/dev/zero")
    assert "byte limit" in str(error)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("a: " + "1" * 5000 + "\n", "4300 digits"), ("a: 2001-13-45\n", "month must be in 1..12")],
)
def test_values_pyyaml_cannot_build_are_config_errors(text: str, reason: str) -> None:
    error = _one_line_error(text)
    assert reason in str(error)


def test_merge_keys_are_accepted() -> None:
    text = BASE.replace(
        "      basicAuth:\n        username: administrator@vsphere.local\n"
        "        password: ReplaceMe\n",
        "      basicAuth: &creds\n        username: administrator@vsphere.local\n"
        "        password: ReplaceMe\n",
    ).replace(
        '    bindAddress: "0.0.0.0:8082"\n',
        '    bindAddress: "0.0.0.0:8082"\n'
        "    auth:\n      type: basic_auth\n      basicAuth:\n"
        "        <<: *creds\n        password: Other\n",
    )
    assert "<<: *creds" in text
    config = load_router_config(text)
    auth = config.metrics_provider.default.auth
    assert auth is not None
    assert auth.basic_auth is not None
    assert auth.basic_auth.username == "administrator@vsphere.local"  # merged
    assert auth.basic_auth.password == "Other"  # the mapping's own key wins over the merged one


def test_duplicate_own_keys_are_still_refused_beside_a_merge() -> None:
    error = _one_line_error("base: &b {x: 1}\nother:\n  <<: *b\n  y: 1\n  y: 2\n")
    assert "duplicate key 'y' at line 5" in str(error)


# -- the CLI -------------------------------------------------------------------------------


def _veba(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:  # a read without a bound would hit this instead of the test
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [*VEBA, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
    )


def test_veba_listen_on_deep_yaml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("[" * 100_000)
    result = _veba("listen", "--config", "d.yaml", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"veba: error: the document is nested more than {MAX_DEPTH} levels deep"
    ]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "over the 1048576 byte limit of an event payload"),
        ('{"a":' * 100_000, "the JSON is nested too deep"),
        ('{"Key": ' + "1" * 5000 + "}", "not JSON (Exceeds the limit (4300 digits)"),
        ("\udcff", "not JSON ('utf-8' codec can't decode"),
    ],
    ids=["dev-zero", "deep", "huge-int", "not-utf8"],
)
def test_veba_send_file_is_bounded_and_one_line(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is None:
        path = "/dev/zero"
    else:
        (tmp_path / "payload.json").write_bytes(content.encode("utf-8", "surrogateescape"))
        path = "payload.json"
    result = _veba(
        "send", "EnteredMaintenanceModeEvent", "--file", path, "--to", "http://127.0.0.1:9/",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0], lines[0]


def test_veba_send_set_with_deep_json_is_one_line(tmp_path: Path) -> None:
    result = _veba(
        "send", "EnteredMaintenanceModeEvent", "--set", "host.name=" + "[" * 5000 + "]" * 5000,
        "--to", "http://127.0.0.1:9/", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "host.name: the JSON is nested too deep" in lines[0]
