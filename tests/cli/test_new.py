"""``veba new`` scaffolds projects whose own tests pass; the kits' manifests are current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from veba_sdk.cli import main
from veba_sdk.cli._kits import TARGETS, kit_dir
from veba_sdk.cli._load import load_router
from veba_sdk.manifests import generate

MANIFESTS = {
    "knative": ("service.yaml", "triggers.yaml"),
    "openfaas": ("stack.yml",),
    "lambda": ("template.yaml",),
    "gcf": ("deploy.sh",),
}


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_new_project_passes_its_own_test(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if target == "gcf":  # absent from the cloudevents 2.x environment
        pytest.importorskip("functions_framework")
    directory = tmp_path / "my-fn"
    assert main(["new", "my-fn", "--target", target, "--dir", str(directory)]) == 0
    written = capsys.readouterr().out.split()
    names = {Path(p).name for p in written}
    assert {"handler.py", "test_handler.py", "Dockerfile", *MANIFESTS[target]} <= names
    assert "veba-function" not in "".join(Path(p).read_text() for p in written)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_handler.py"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_new_refuses_a_non_empty_directory_and_bad_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    assert main(["new", "taken", "--target", "knative", "--dir", str(tmp_path / "taken")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["new", "Bad_Name", "--target", "knative", "--dir", str(tmp_path / "b")]) == 2
    assert main(["new", "x", "--target", "azure"]) == 2


@pytest.mark.parametrize("target", TARGETS)
def test_kit_manifests_match_the_kit_handler(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = kit_dir(target)
    monkeypatch.chdir(kit)
    sys.modules.pop("handler", None)
    try:
        router = load_router("handler")
    finally:
        sys.modules.pop("handler", None)
    files = generate(router, name="veba-function", image="veba-function:latest", target=target)
    for name in MANIFESTS[target]:
        assert (kit / name).read_text() == files[name], f"regenerate adapters/{target}/{name}"
