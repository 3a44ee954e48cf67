"""functions-framework: the deploy script names the function, entry point and subscriptions."""

from __future__ import annotations

import shlex

from manifest_corpus import ROUTERS

from veba_sdk.manifests import generate


def test_deploy_script() -> None:
    files = generate(ROUTERS["exact"](), name="veba-fn", image="unused", target="gcf")
    script = files["deploy.sh"]
    command = shlex.split(script.strip().splitlines()[-1])
    assert command[:4] == ["gcloud", "functions", "deploy", "veba-fn"]
    assert "--entry-point=function" in command
    assert "--gen2" in command
    assert "# Subscribes to: EnteredMaintenanceModeEvent, ExitMaintenanceModeEvent" in script
    assert "--trigger-http" in command
    # main.py registers a cloud_event function: no --signature-type needed, however started.
    assert "signature-type" not in script
    assert "#   functions-framework --target=function --port=8080\n" in script
    assert "functions_framework.cloud_event" in script
