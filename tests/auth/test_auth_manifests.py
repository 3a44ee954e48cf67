"""veba manifests with OIDC: each Trigger's subscriber.audience is the audience the function
checks (VEBA_OIDC_AUDIENCE), and the Service carries the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from veba_sdk import Router
from veba_sdk.cli import main
from veba_sdk.manifests import ManifestError, knative_manifests

SPECS = Path(__file__).parents[1] / "specs" / "knative"
TRIGGER_CRD = yaml.safe_load((SPECS / "eventing-trigger-crd.yaml").read_text())
TRIGGER_SCHEMA: dict[str, Any] = TRIGGER_CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

HANDLER = """
from veba_sdk import Router
router = Router()

@router.on("EnteredMaintenanceModeEvent")
@router.on("ExitMaintenanceModeEvent")
def sync(event, ctx):
    return None
"""


def router() -> Router:
    made = Router()

    @made.on("VmPoweredOnEvent")
    def handled(event: Any, ctx: Any) -> None:
        return None

    return made


def test_triggers_carry_the_audience_when_oidc_is_on() -> None:
    env = {"VEBA_AUTH": "oidc", "VEBA_OIDC_ISSUER": "https://k", "VEBA_OIDC_AUDIENCE": "fn-aud"}
    docs = knative_manifests(router(), name="fn", image="fn:1", env=env)
    triggers = [d for d in docs if d["kind"] == "Trigger"]
    assert triggers
    for trigger in triggers:
        assert trigger["spec"]["subscriber"]["audience"] == "fn-aud"
        jsonschema.Draft7Validator(TRIGGER_SCHEMA).validate(trigger)
    without = knative_manifests(router(), name="fn", image="fn:1")
    assert all("audience" not in d["spec"]["subscriber"] for d in without[1:])
    with pytest.raises(ManifestError, match="VEBA_OIDC_AUDIENCE"):
        knative_manifests(router(), name="fn", image="fn:1", env={"VEBA_AUTH": "oidc"})


def test_veba_manifests_oidc_issuer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(tmp_path)
    status = main(
        ["manifests", "handler", "--target", "knative", "--name", "maint",
         "--oidc-issuer", "https://kubernetes.default.svc.cluster.local", "--out", "out"],
    )  # fmt: skip
    output = capsys.readouterr()
    assert status == 0, output.err
    service = yaml.safe_load((tmp_path / "out" / "service.yaml").read_text())
    env = {
        e["name"]: e["value"] for e in service["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["VEBA_AUTH"] == "oidc"
    assert env["VEBA_OIDC_ISSUER"] == "https://kubernetes.default.svc.cluster.local"
    assert env["VEBA_OIDC_AUDIENCE"] == "maint"
    assert env["VEBA_OIDC_CA_FILE"].endswith("/serviceaccount/ca.crt")
    triggers = list(yaml.safe_load_all((tmp_path / "out" / "triggers.yaml").read_text()))
    triggers = [t for doc in triggers for t in (doc if isinstance(doc, list) else [doc])]
    assert len(triggers) == 2
    assert {t["spec"]["subscriber"]["audience"] for t in triggers} == {"maint"}
    assert "VEBA_OIDC_SUBJECTS" in output.err  # the hint to limit the subjects


def test_veba_manifests_oidc_issuer_is_knative_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(tmp_path)
    status = main(["manifests", "handler", "--target", "openfaas", "--oidc-issuer", "https://k"])
    assert status == 2
    assert "Knative only" in capsys.readouterr().err
