"""A missing extra says which one to install, for every optional dependency the package imports.

Each case runs in a fresh interpreter where the dependency is made unimportable
(``sys.modules[name] = None``, which is what Python does for a module that cannot be found).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from veba_sdk import MissingExtra, VebaError
from veba_sdk._extras import OPTIONAL_MODULES, needs_extra

RUNNER = textwrap.dedent(
    """
    import json, sys
    for name in sys.argv[1].split(","):
        sys.modules[name] = None
    try:
        exec(sys.argv[2])
    except ImportError as exc:
        print(json.dumps({
            "type": type(exc).__name__,
            "message": str(exc),
            "name": exc.name,
            "extra": getattr(exc, "extra", None),
            "module_not_found": isinstance(exc, ModuleNotFoundError),
        }))
    except BaseException as exc:
        print(json.dumps({"type": type(exc).__name__, "message": str(exc)}))
    else:
        print(json.dumps({"type": None}))
    """
)


def without(modules: str, code: str) -> dict[str, object]:
    """Run ``code`` with ``modules`` (comma-separated) unimportable; what it raised."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, modules, code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


CASES = [
    ("stamina", "import veba_sdk.vrops", "vrops", "veba_sdk.vrops needs stamina"),
    ("httpx", "from veba_sdk.vrops import VropsClient", "vrops", "veba_sdk.vrops needs httpx"),
    (
        "httpx",
        "from veba_sdk.testing import FakeVrops; FakeVrops",
        "vrops",
        "veba_sdk.testing.FakeVrops needs httpx",
    ),
    (
        "httpx",
        "from veba_sdk.testing import make_event, send; send(make_event('VmPoweredOnEvent'), 'http://127.0.0.1:9')",
        "vrops",
        "veba_sdk.testing.send needs httpx",
    ),
    ("pyVmomi", "import veba_sdk.source", "source", "veba_sdk.source needs pyVmomi (pyvmomi)"),
    ("pyVim", "import veba_sdk.source", "source", "veba_sdk.source needs pyVim (pyvmomi)"),
    ("click", "import veba_sdk.cli._main", "cli", "the veba command needs click"),
    (
        "yaml",
        "from veba_sdk.manifests import dump_yaml; dump_yaml({})",
        "cli",
        "writing manifests needs yaml (PyYAML)",
    ),
    (
        "uvicorn",
        "from veba_sdk.testing import FakeVrops\nwith FakeVrops().serve(): pass",
        "knative",
        "FakeVrops.serve needs uvicorn",
    ),
]


@pytest.mark.parametrize(("blocked", "code", "extra", "start"), CASES, ids=lambda v: str(v)[:30])
def test_missing_extra_names_the_extra(blocked: str, code: str, extra: str, start: str) -> None:
    raised = without(blocked, code)
    assert raised["type"] == "MissingExtra"
    assert raised["extra"] == extra
    assert raised["name"] == blocked
    assert raised["module_not_found"] is True
    assert raised["message"] == f"{start}, which is not installed: pip install 'veba-sdk[{extra}]'"


def test_veba_serve_gcf_without_functions_framework() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from veba_sdk.cli._main import cli\n"
        "result = CliRunner().invoke(cli, ['serve', 'json', '--adapter', 'gcf'])\n"
        "raise SystemExit(result.output)"
    )
    raised = without("functions_framework", code)
    assert raised["type"] == "SystemExit"
    assert (
        "veba serve --adapter gcf needs functions_framework (functions-framework), which is not "
        "installed: pip install 'veba-sdk[gcf]'"
    ) in " ".join(str(raised["message"]).split())


def test_the_veba_command_without_click_says_so_in_one_line() -> None:
    code = (
        "import sys; sys.modules['click'] = None\n"
        "from veba_sdk.cli import main\n"
        "raise SystemExit(main(['--help']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr == (
        "veba: the veba command needs click, which is not installed: pip install 'veba-sdk[cli]'\n"
    )


def test_orjson_is_optional() -> None:
    code = (
        "from veba_sdk.testing import make_event, to_cloudevent\n"
        "from veba_sdk import decode_http\n"
        "headers, body = to_cloudevent(make_event('VmPoweredOnEvent'))\n"
        "assert decode_http(headers, body).name == 'VmPoweredOnEvent'"
    )
    assert without("orjson", code) == {"type": None}


def test_lean_imports_need_no_extra() -> None:
    """A Lambda image has only the core: the router, events and the Lambda adapter import."""
    code = (
        "import veba_sdk, veba_sdk.events, veba_sdk.testing\n"
        "from veba_sdk.adapters import aws_lambda, openfaas\n"
        "from veba_sdk.testing import make_event, to_eventbridge\n"
        "aws_lambda.handler(veba_sdk.Router())(to_eventbridge(make_event('VmPoweredOnEvent')))"
    )
    assert without("httpx,stamina,uvicorn,click,yaml,pyVmomi,orjson", code) == {"type": None}


def test_only_optional_modules_are_translated() -> None:
    """A missing core or user module stays the plain error: no extra would install it."""
    with pytest.raises(ModuleNotFoundError) as caught, needs_extra("vrops", "x"):
        import veba_sdk_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert type(caught.value) is ModuleNotFoundError
    with pytest.raises(MissingExtra) as missing, needs_extra("vrops", "my handler"):
        raise ModuleNotFoundError("No module named 'httpx._client'", name="httpx._client")
    assert str(missing.value).endswith("pip install 'veba-sdk[vrops]'")
    assert isinstance(missing.value, VebaError)
    assert isinstance(missing.value.__cause__, ModuleNotFoundError)


def test_every_optional_module_is_an_extra_dependency() -> None:
    """OPTIONAL_MODULES names distributions that the extras really list."""
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    listed = {
        spec.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower()
        for name, specs in extras.items()
        if name not in ("test", "all")
        for spec in specs
    }
    assert {dist.lower() for dist in OPTIONAL_MODULES.values()} <= listed
