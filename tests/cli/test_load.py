"""``MODULE[:ROUTER]`` for every command: dotted names, and paths to module files of any shape."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from veba_sdk import Router
from veba_sdk.cli import main
from veba_sdk.cli._load import load_router

SIBLING = """
from veba_sdk import Router
from helpers import EVENT

router = Router()

@router.on(EVENT)
def handle(event, ctx):
    return ctx.name
"""


@pytest.fixture
def clean_modules() -> Iterator[None]:
    """Forget modules and sys.path entries a test imported, so tests stay independent."""
    modules, path = set(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


def _function(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "helpers.py").write_text('EVENT = "VmPoweredOnEvent"\n')
    handlers = directory / "handlers.py"
    handlers.write_text(SIBLING)
    return handlers


def _routes(router: Router) -> list[str]:
    return [str(route.pattern) for route in router.routes]


@pytest.mark.usefixtures("clean_modules")
def test_an_absolute_path_imports_the_file_and_its_sibling(tmp_path: Path) -> None:
    handlers = _function(tmp_path / "fn")
    router = load_router(str(handlers))
    assert isinstance(router, Router)
    assert _routes(router) == ["VmPoweredOnEvent"]
    assert load_router(f"{handlers}:router") is router


@pytest.mark.usefixtures("clean_modules")
def test_a_relative_parent_path_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _function(tmp_path / "x")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    router = load_router("../x/handlers.py:router")
    assert _routes(router) == ["VmPoweredOnEvent"]


@pytest.mark.usefixtures("clean_modules")
def test_the_named_file_wins_over_a_same_named_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _function(tmp_path / "a")
    second = tmp_path / "b" / "handlers.py"
    second.parent.mkdir()
    second.write_text(
        "from veba_sdk import Router\nrouter = Router()\n"
        "router.on('VmPoweredOffEvent')(lambda event: None)\n"
    )
    monkeypatch.chdir(tmp_path)
    assert _routes(load_router(str(first))) == ["VmPoweredOnEvent"]
    assert _routes(load_router("b/handlers.py")) == ["VmPoweredOffEvent"]


@pytest.mark.usefixtures("clean_modules")
def test_a_file_inside_a_package_keeps_its_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkgfn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "names.py").write_text('EVENT = "HostConnectedEvent"\n')
    (package / "handlers.py").write_text(
        "from veba_sdk import Router\nfrom .names import EVENT\nrouter = Router()\n"
        "router.on(EVENT)(lambda event: None)\n"
    )
    assert _routes(load_router(str(package / "handlers.py"))) == ["HostConnectedEvent"]
    (package / "__init__.py").write_text("from .handlers import router\n")
    sys.modules.pop("pkgfn", None)
    sys.modules.pop("pkgfn.handlers", None)
    assert _routes(load_router(f"{package}/:router")) == ["HostConnectedEvent"]


@pytest.mark.usefixtures("clean_modules")
def test_dotted_names_still_import_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _function(tmp_path / "fn")
    monkeypatch.chdir(tmp_path / "fn")
    assert _routes(load_router("handlers")) == ["VmPoweredOnEvent"]


@pytest.mark.usefixtures("clean_modules")
def test_bad_targets_fail_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.py").write_text("import not_installed_anywhere\n")
    (tmp_path / "syntax.py").write_text("def f(:\n")
    cases = {
        "missing/handlers.py": "no module file 'missing/handlers.py'",
        "broken.py": "no module named 'not_installed_anywhere'",
        str(tmp_path / "syntax.py"): "syntax.py:1",
        "nothing_here": "no module named 'nothing_here'",
    }
    for target, message in cases.items():
        with pytest.raises(click.BadParameter, match=message.replace(".", r"\.")):
            load_router(target)


@pytest.mark.usefixtures("clean_modules")
def test_manifests_with_an_absolute_and_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    handlers = _function(tmp_path / "x")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    for target in (str(handlers), "../x/handlers.py"):
        status = main(["manifests", target, "--target", "knative", "--producer", "router"])
        out, err = capsys.readouterr()
        assert status == 0, err
        assert "name: veba-handlers" in out
        assert "subject: VmPoweredOnEvent" in out
