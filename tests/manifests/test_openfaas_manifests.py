"""OpenFaaS stack.yml: schema-valid, topics list the exact subscribed names."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from manifest_corpus import ROUTERS

from veba_sdk.config import load_router_config
from veba_sdk.manifests import ManifestError, generate, openfaas_stack

SPECS = Path(__file__).parents[1] / "specs" / "openfaas"
CONFIGS = Path(__file__).parents[1] / "fixtures" / "router-configs"
STACK_SCHEMA = json.loads((SPECS / "stack-yml.DERIVED.schema.json").read_text())


@pytest.mark.parametrize("label", ["exact", "class", "glob"])
def test_stack_validates_and_lists_topics(label: str) -> None:
    stack = openfaas_stack(ROUTERS[label](), name="veba-fn", image="registry.example/x/fn:1")
    jsonschema.Draft7Validator(STACK_SCHEMA).validate(stack)
    function = stack["functions"]["veba-fn"]
    assert function["lang"] == "python3-http"
    topics = function["annotations"]["topic"].split(",")
    assert topics == sorted(set(topics))
    assert all(topic and " " not in topic for topic in topics)


def test_topics_of_exact_routes() -> None:
    stack = openfaas_stack(ROUTERS["exact"](), name="fn", image="img")
    assert stack["functions"]["fn"]["annotations"]["topic"] == (
        "EnteredMaintenanceModeEvent,ExitMaintenanceModeEvent"
    )
    assert stack["provider"] == {"name": "openfaas", "gateway": "http://gateway.openfaas:8080"}
    assert stack["version"] == "1.0"


def test_yaml_round_trips_through_the_schema_with_version_as_text() -> None:
    config = load_router_config(CONFIGS / "dev__event-router-config-vcenter-openfaas.yaml")
    files = generate(ROUTERS["exact"](), config, name="veba-fn", image="img")
    text = files["stack.yml"]
    assert "version: '1.0'" in text  # a bare 1.0 would load as a float
    stack = yaml.safe_load(text)
    jsonschema.Draft7Validator(STACK_SCHEMA).validate(stack)
    assert stack["provider"]["gateway"] == "http://gateway.openfaas:8080"


@pytest.mark.parametrize("label", ["typeid", "catch-all", "eventex-class", "mixed"])
def test_what_topics_cannot_say_is_refused(label: str) -> None:
    with pytest.raises(ManifestError, match="OpenFaaS topics"):
        openfaas_stack(ROUTERS[label](), name="fn", image="img")
