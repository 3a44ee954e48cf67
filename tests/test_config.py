"""RouterConfig loading: every VEBA fixture, the JSON schemas as reference, error paths, reprs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from veba_sdk._errors import ConfigError, VebaError
from veba_sdk.config import (
    DEFAULT_CHECKPOINT_DIR,
    RouterConfig,
    VSphereSource,
    load_config,
    load_router_config,
    load_vsphere_source,
)

FIXTURES = Path(__file__).parent / "fixtures" / "router-configs"
DEV_SCHEMA = json.loads((FIXTURES / "dev__routerconfig.schema.json").read_text())
V060_SCHEMA = json.loads((FIXTURES / "v0.6.0__routerconfig.schema.json").read_text())
SECRETS = ("ReplaceMe", "ZYXWVUTSRQPO", "webhook-pass")

# Plain RouterConfigs: each must load. Value: (provider type, processor type, schema verdict).
# The schema verdict is False where the shipped config contradicts the shipped schema; our
# loader accepts those on purpose (see veba_sdk.config's module docstring).
PLAIN = {
    "dev__event-router-config-horizon-knative.yaml": ("horizon", "knative", True),
    # aws_iam_role has no credentials section; the schema's auth oneOf demands one.
    "dev__event-router-config-vcenter-aws-iam-role-auth.yaml": (
        "vcenter",
        "aws_event_bridge",
        False,
    ),
    "dev__event-router-config-vcenter-aws.yaml": ("vcenter", "aws_event_bridge", True),
    "dev__event-router-config-vcenter-knative.yaml": ("vcenter", "knative", True),
    "dev__event-router-config-vcenter-openfaas.yaml": ("vcenter", "openfaas", True),
    "dev__event-router-config-webhook-knative.yaml": ("webhook", "knative", True),
    "v0.5.0__event-router-config-knative.yaml": ("vcenter", "knative", True),
    # VEBA v0.6.0's example says `type: awsEventBridge`; its own schema's enum is aws_event_bridge.
    "v0.6.0__event-router-config-aws.yaml": ("vcenter", "aws_event_bridge", False),
    "v0.6.0__event-router-config-knative.yaml": ("vcenter", "knative", True),
    "v0.6.0__event-router-config-openfaas.yaml": ("vcenter", "openfaas", True),
}

# Files that are not plain RouterConfigs, and the decision for each.
# "ytt-loads": a ytt template that loads once its directives are skipped.
# Everything else is out of scope and must fail with a ConfigError matching the pattern.
NOT_PLAIN = {
    "dev__appliance-vmware-event-router-config-template.ytt.yaml": ("ytt-loads", "ytt"),
    # Three mutually exclusive `#@ if` branches: without ytt they are three providers at once.
    "v0.7.5__appliance-vmware-event-router-config-template.ytt.yaml": (
        "out",
        r"duplicate key.*ytt",
    ),
    # VSphereSource / HorizonSource CRs of appliance v0.8, not RouterConfigs.
    "dev__appliance-vsphere-source-template.ytt.yml": ("out", r"duplicate key.*ytt"),
    "dev__appliance-horizon-source-template.ytt.yml": ("out", r"duplicate key.*ytt"),
    "dev__chart-config.yaml": ("out", r"not valid YAML.*helm template"),
    # Unknown keys first, then what is missing; nothing cut off.
    "dev__chart-values.yaml": (
        "out",
        r"^21 problems: replicaCount: unknown field; .*; apiVersion: required; .*metricsProvider",
    ),
    "dev__vcsim.yaml": ("out", r"expected one YAML document, found 2"),
    "dev__routerconfig.schema.json": ("out", r"apiVersion: required"),
    "v0.6.0__routerconfig.schema.json": ("out", r"apiVersion: required"),
}


def schema_accepts(document: Any, schema: dict[str, Any] = DEV_SCHEMA) -> bool:
    """True when the reference JSON schema accepts the document."""
    return jsonschema.Draft4Validator(schema).is_valid(document)


def strip_ytt(text: str) -> str:
    """Skip ytt directives: drop `#@` lines, turn inline `key: #@ expr` into a placeholder."""
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith("#@"):
            continue
        line = re.sub(r":\s*#@\s*(.+)$", lambda m: ": " + json.dumps(f"ytt:{m.group(1)}"), line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def load_yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / name).read_text())
    assert isinstance(data, dict)
    return data


def test_every_fixture_has_a_decision() -> None:
    assert not set(PLAIN) & set(NOT_PLAIN)
    assert {p.name for p in FIXTURES.iterdir()} == set(PLAIN) | set(NOT_PLAIN)


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_fixture_loads(name: str) -> None:
    provider, processor, schema_ok = PLAIN[name]
    config = load_router_config(FIXTURES / name)
    assert isinstance(config, RouterConfig)
    raw = load_yaml(name)
    assert config.metadata.name == raw["metadata"]["name"]
    assert dict(config.metadata.labels) == raw["metadata"]["labels"]
    assert config.event_provider.type == provider
    assert config.event_provider.name == raw["eventProvider"]["name"]
    assert config.event_processor.type == processor
    assert config.metrics_provider.default.bind_address == "0.0.0.0:8082"
    assert schema_accepts(raw) is schema_ok


@pytest.mark.parametrize("name", sorted(n for n in PLAIN if n.startswith("v0.6.0")))
def test_v060_fixtures_against_v060_schema(name: str) -> None:
    assert schema_accepts(load_yaml(name), V060_SCHEMA) is PLAIN[name][2]


def test_vcenter_fields() -> None:
    config = load_router_config(FIXTURES / "dev__event-router-config-vcenter-knative.yaml")
    vc = config.event_provider.vcenter
    assert vc is not None
    assert vc.address == "https://my-vcenter01.domain.local/sdk"
    assert vc.insecure_ssl is False
    assert vc.checkpoint is False
    assert vc.checkpoint_dir is None
    assert vc.effective_checkpoint_dir == DEFAULT_CHECKPOINT_DIR
    assert vc.auth.type == "basic_auth"
    assert vc.auth.basic_auth is not None
    assert vc.auth.basic_auth.username == "administrator@vsphere.local"
    assert vc.auth.basic_auth.password == "ReplaceMe"
    kn = config.event_processor.knative
    assert kn is not None
    assert (kn.encoding, kn.insecure_ssl) == ("binary", False)
    assert kn.destination.ref is not None
    assert kn.destination.ref.kind == "Broker"
    assert kn.destination.ref.namespace == "default"
    assert kn.destination.uri is None


def test_aws_fields_and_alias() -> None:
    new = load_router_config(FIXTURES / "dev__event-router-config-vcenter-aws.yaml")
    old = load_router_config(FIXTURES / "v0.6.0__event-router-config-aws.yaml")
    for config in (new, old):
        eb = config.event_processor.aws_event_bridge
        assert eb is not None
        assert (eb.event_bus, eb.region) == ("default", "us-west-1")
        assert eb.rule_arn.endswith(":rule/vmware-event-router")
        assert eb.auth.aws_access_key_auth is not None
        assert eb.auth.aws_access_key_auth.secret_key == "ZYXWVUTSRQPO"
    iam = load_router_config(FIXTURES / "dev__event-router-config-vcenter-aws-iam-role-auth.yaml")
    assert iam.event_processor.aws_event_bridge is not None
    assert iam.event_processor.aws_event_bridge.auth.type == "aws_iam_role"


def test_openfaas_horizon_webhook_fields() -> None:
    of = load_router_config(FIXTURES / "dev__event-router-config-vcenter-openfaas.yaml")
    assert of.event_processor.openfaas is not None
    assert of.event_processor.openfaas.address == "http://gateway.openfaas:8080"
    assert of.event_processor.openfaas.async_ is False
    hz = load_router_config(FIXTURES / "dev__event-router-config-horizon-knative.yaml")
    assert hz.event_provider.horizon is not None
    ad = hz.event_provider.horizon.auth.active_directory_auth
    assert ad is not None
    assert (ad.domain, ad.username) == ("corp", "administrator")
    wh = load_router_config(FIXTURES / "dev__event-router-config-webhook-knative.yaml")
    assert wh.event_provider.webhook is not None
    assert (wh.event_provider.webhook.bind_address, wh.event_provider.webhook.path) == (
        "0.0.0.0:8080",
        "/webhook",
    )


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_repr_hides_secrets(name: str) -> None:
    text = repr(load_router_config(FIXTURES / name))
    assert "'***'" in text
    for secret in SECRETS:
        assert secret not in text


def test_ytt_template_loads_after_skipping_directives() -> None:
    name = "dev__appliance-vmware-event-router-config-template.ytt.yaml"
    text = (FIXTURES / name).read_text()
    with pytest.raises(ConfigError, match="ytt"):
        load_router_config(text)
    rendered = strip_ytt(text)
    config = load_router_config(rendered)
    assert config.event_provider.type == "webhook"
    assert config.metadata.name == "ytt:routerName"
    assert schema_accepts(yaml.safe_load(rendered))


@pytest.mark.parametrize("name", sorted(n for n, (kind, _) in NOT_PLAIN.items() if kind == "out"))
def test_out_of_scope_files_fail_clearly(name: str) -> None:
    pattern = NOT_PLAIN[name][1]
    with pytest.raises(ConfigError) as info:
        load_router_config(FIXTURES / name)
    assert re.search(pattern, str(info.value)), str(info.value)
    assert "\n" not in str(info.value)


def test_v075_template_stays_out_of_scope_without_ytt() -> None:
    name = "v0.7.5__appliance-vmware-event-router-config-template.ytt.yaml"
    text = strip_ytt((FIXTURES / name).read_text())
    with pytest.raises(ConfigError, match="duplicate key 'name' at line 30"):
        load_router_config(text)


# -- inputs --------------------------------------------------------------------------------

BASE_NAME = "dev__event-router-config-vcenter-knative.yaml"


def base() -> dict[str, Any]:
    return copy.deepcopy(load_yaml(BASE_NAME))


def test_accepts_path_str_text_bytes_json_and_mapping() -> None:
    path = FIXTURES / BASE_NAME
    expected = load_router_config(path)
    assert load_router_config(str(path)) == expected
    assert load_router_config(path.read_text()) == expected
    assert load_router_config(path.read_bytes()) == expected
    assert load_router_config(json.dumps(base())) == expected
    assert load_router_config(base()) == expected


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"cannot read .*nope\.yaml"):
        load_router_config("/nonexistent/nope.yaml")


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="must be a mapping, got list"):
        load_router_config("- a\n- b\n")


def test_config_error_is_veba_error_with_path() -> None:
    doc = base()
    doc["eventProcessor"]["knative"]["encoding"] = "xml"
    with pytest.raises(ConfigError) as info:
        load_router_config(doc)
    assert isinstance(info.value, VebaError)
    assert str(info.value) == "eventProcessor.knative.encoding: must be one of binary, structured"
    assert info.value.path == "eventProcessor.knative.encoding"
    assert info.value.problems == [str(info.value)]


def test_several_problems_are_all_reported() -> None:
    doc = base()
    doc["eventProvider"]["vcenter"]["insecureSSL"] = "no"
    del doc["metadata"]["name"]
    with pytest.raises(ConfigError) as info:
        load_router_config(doc)
    assert info.value.problems == [
        "metadata.name: required",
        "eventProvider.vcenter.insecureSSL: must be a boolean, got string",
    ]
    assert str(info.value).startswith("2 problems: metadata.name: required; ")


def _keys(node: Any, path: str = "") -> list[tuple[str, str]]:
    """``(parent path, key)`` of every mapping key in a document (free-form labels excepted)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((path, key))
            if path + key != "metadata.labels":
                found.extend(_keys(value, f"{path}{key}."))
    return found


def _misspell(key: str) -> str:
    """A typo: two middle letters swapped, or (for keys of two letters or with a double letter
    there) the middle letter dropped, e.g. ``address`` -> ``adress``."""
    middle = len(key) // 2
    if len(key) > 3 and key[middle - 1] != key[middle]:
        return key[: middle - 1] + key[middle] + key[middle - 1] + key[middle + 1 :]
    return key[:middle] + key[middle + 1 :]


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_a_misspelt_key_in_a_real_config_is_named_first_with_a_suggestion(name: str) -> None:
    document = load_yaml(name)
    checked = 0
    for parent, key in _keys(document):
        typo = _misspell(key)
        broken = copy.deepcopy(document)
        section = broken
        for part in parent.rstrip(".").split(".") if parent else []:
            section = section[part]
        section[typo] = section.pop(key)
        with pytest.raises(ConfigError) as info:
            load_router_config(broken)
        first = f"{parent}{typo}: unknown field (did you mean {key!r}?)"
        assert info.value.problems[0] == first, (name, key, info.value.problems)
        message = str(info.value)
        assert "more" not in message
        assert all(problem in message for problem in info.value.problems)
        checked += 1
    assert checked >= 10


def test_the_adress_typo_reports_its_cause_first(tmp_path: Path) -> None:
    text = (FIXTURES / "dev__event-router-config-vcenter-knative.yaml").read_text()
    path = tmp_path / "router-config.yaml"
    path.write_text(text.replace("    address:", "    adress:"))
    with pytest.raises(ConfigError) as info:
        load_router_config(path)
    assert str(info.value) == (
        "2 problems: eventProvider.vcenter.adress: unknown field (did you mean 'address'?); "
        "eventProvider.vcenter.address: required"
    )


def test_many_problems_are_never_cut_off() -> None:
    doc = base()
    for key in ("name", "type"):
        doc["eventProcessor"][key.upper()] = doc["eventProcessor"].pop(key)
    doc["metricsProvider"]["default"]["bindadress"] = doc["metricsProvider"]["default"].pop(
        "bindAddress"
    )
    doc["eventProvider"]["vcenter"]["insecureSSL"] = "no"
    doc["eventProvider"]["vcenter"]["checkpoint"] = "yes"
    del doc["metadata"]["name"]
    with pytest.raises(ConfigError) as info:
        load_router_config(doc)
    problems = info.value.problems
    assert len(problems) > 5
    assert problems[:3] == [
        "eventProcessor.NAME: unknown field (did you mean 'name'?)",
        "eventProcessor.TYPE: unknown field (did you mean 'type'?)",
        "metricsProvider.default.bindadress: unknown field (did you mean 'bindAddress'?)",
    ]
    assert str(info.value) == f"{len(problems)} problems: " + "; ".join(problems)


def test_secret_values_never_in_errors() -> None:
    doc = base()
    doc["eventProvider"]["vcenter"]["auth"]["basicAuth"]["password"] = ["ReplaceMe"]
    with pytest.raises(ConfigError) as info:
        load_router_config(doc)
    assert (
        str(info.value)
        == "eventProvider.vcenter.auth.basicAuth.password: must be a string, got list"
    )
    assert "ReplaceMe" not in repr(info.value)


def test_uri_as_string_and_as_go_url_struct() -> None:
    doc = base()
    doc["eventProcessor"]["knative"]["destination"] = {"uri": "http://127.0.0.1:8080/events"}
    config = load_router_config(doc)
    assert config.event_processor.knative is not None
    assert config.event_processor.knative.destination.uri == "http://127.0.0.1:8080/events"
    assert not schema_accepts(doc)  # the schema's reflected url.URL struct: documented divergence
    go_url = {
        "Scheme": "http",
        "Opaque": "",
        "User": {},
        "Host": "mybroker.corp.local",
        "Path": "/in",
        "RawPath": "",
        "ForceQuery": False,
        "RawQuery": "",
        "Fragment": "",
        "RawFragment": "",
    }
    doc["eventProcessor"]["knative"]["destination"] = {"uri": go_url}
    assert schema_accepts(doc)
    config = load_router_config(doc)
    assert config.event_processor.knative is not None
    assert config.event_processor.knative.destination.uri == "http://mybroker.corp.local/in"
    # the shape commented out in VEBA's sample configs
    doc["eventProcessor"]["knative"]["destination"] = {
        "uri": {"host": "mybroker-external.corp.local", "scheme": "http"}
    }
    config = load_router_config(doc)
    assert config.event_processor.knative is not None
    assert config.event_processor.knative.destination.uri == "http://mybroker-external.corp.local"


def test_checkpoint_dir_and_certificates() -> None:
    doc = base()
    doc["eventProvider"]["vcenter"].update(checkpoint=True, checkpointDir="/var/lib/veba")
    doc["certificates"] = {"rootCAs": ["-----BEGIN CERTIFICATE-----"]}
    config = load_router_config(doc)
    assert schema_accepts(doc)
    assert config.event_provider.vcenter is not None
    assert config.event_provider.vcenter.checkpoint is True
    assert config.event_provider.vcenter.effective_checkpoint_dir == "/var/lib/veba"
    assert config.certificates is not None
    assert config.certificates.root_cas == ("-----BEGIN CERTIFICATE-----",)


# -- mutations checked against the reference schema ----------------------------------------


def _set(path: str, value: Any) -> Any:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _del(path: str) -> Any:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


BASIC = {"type": "basic_auth", "basicAuth": {"username": "u", "password": "p"}}

# (id, mutation, expected error path or None when we accept, schema verdict)
MUTATIONS: list[tuple[str, Any, str | None, bool]] = [
    ("unchanged", lambda d: None, None, True),
    ("bad apiVersion", _set("apiVersion", "v1"), "apiVersion", False),
    ("bad kind", _set("kind", "Deployment"), "kind", False),
    ("no metadata", _del("metadata"), "metadata", False),
    ("no metadata.name", _del("metadata.name"), "metadata.name", False),
    ("label not string", _set("metadata.labels.key", 1), "metadata.labels.key", False),
    ("unknown top field", _set("spec", {}), "spec", False),
    ("no metricsProvider", _del("metricsProvider"), "metricsProvider", False),
    ("metrics type", _set("metricsProvider.type", "prometheus"), "metricsProvider.type", False),
    ("metrics no default", _del("metricsProvider.default"), "metricsProvider.default", False),
    ("metrics auth", _set("metricsProvider.default.auth", BASIC), None, True),
    ("provider type", _set("eventProvider.type", "kafka"), "eventProvider.type", False),
    ("provider no name", _del("eventProvider.name"), "eventProvider.name", False),
    ("no vcenter section", _del("eventProvider.vcenter"), "eventProvider.vcenter", False),
    (
        "vc address int",
        _set("eventProvider.vcenter.address", 5),
        "eventProvider.vcenter.address",
        False,
    ),
    (
        "vc no address",
        _del("eventProvider.vcenter.address"),
        "eventProvider.vcenter.address",
        False,
    ),
    (
        "vc insecure string",
        _set("eventProvider.vcenter.insecureSSL", "true"),
        "eventProvider.vcenter.insecureSSL",
        False,
    ),
    (
        "vc no checkpoint",
        _del("eventProvider.vcenter.checkpoint"),
        "eventProvider.vcenter.checkpoint",
        False,
    ),
    ("vc checkpointDir", _set("eventProvider.vcenter.checkpointDir", "/tmp/cp"), None, True),
    (
        "vc checkpointDir int",
        _set("eventProvider.vcenter.checkpointDir", 1),
        "eventProvider.vcenter.checkpointDir",
        False,
    ),
    ("vc no auth", _del("eventProvider.vcenter.auth"), "eventProvider.vcenter.auth", False),
    ("vc unknown", _set("eventProvider.vcenter.port", 443), "eventProvider.vcenter.port", False),
    (
        "auth type",
        _set("eventProvider.vcenter.auth.type", "token"),
        "eventProvider.vcenter.auth.type",
        False,
    ),
    (
        "auth no section",
        _del("eventProvider.vcenter.auth.basicAuth"),
        "eventProvider.vcenter.auth.basicAuth",
        False,
    ),
    (
        "auth two sections",
        _set("eventProvider.vcenter.auth.awsAccessKeyAuth", {"accessKey": "a", "secretKey": "s"}),
        "eventProvider.vcenter.auth",
        False,
    ),
    (
        "basic no password",
        _del("eventProvider.vcenter.auth.basicAuth.password"),
        "eventProvider.vcenter.auth.basicAuth.password",
        False,
    ),
    (
        "basic extra",
        _set("eventProvider.vcenter.auth.basicAuth.token", "x"),
        "eventProvider.vcenter.auth.basicAuth.token",
        False,
    ),
    (
        "two provider sections",
        _set("eventProvider.vcsim", {"address": "a", "insecureSSL": True, "auth": BASIC}),
        "eventProvider",
        False,
    ),
    ("processor type", _set("eventProcessor.type", "kafka"), "eventProcessor.type", False),
    ("processor no section", _del("eventProcessor.knative"), "eventProcessor.knative", False),
    (
        "encoding",
        _set("eventProcessor.knative.encoding", "xml"),
        "eventProcessor.knative.encoding",
        False,
    ),
    ("structured", _set("eventProcessor.knative.encoding", "structured"), None, True),
    (
        "kn no insecure",
        _del("eventProcessor.knative.insecureSSL"),
        "eventProcessor.knative.insecureSSL",
        False,
    ),
    (
        "kn no destination",
        _del("eventProcessor.knative.destination"),
        "eventProcessor.knative.destination",
        False,
    ),
    (
        "ref no name",
        _del("eventProcessor.knative.destination.ref.name"),
        "eventProcessor.knative.destination.ref.name",
        False,
    ),
    ("ref no namespace", _del("eventProcessor.knative.destination.ref.namespace"), None, True),
    ("kn auth", _set("eventProcessor.knative.auth", BASIC), None, True),
    ("certificates", _set("certificates", {"rootCAs": ["pem"]}), None, True),
    ("certificates bad", _set("certificates", {"rootCAs": "pem"}), "certificates.rootCAs", False),
    # Stricter than the schema (it cannot tie a section to its type): we reject, it accepts.
    ("section/type mismatch", _set("eventProvider.type", "vcsim"), "eventProvider.vcenter", True),
    (
        "auth section/type mismatch",
        _set("eventProvider.vcenter.auth.type", "aws_access_key"),
        "eventProvider.vcenter.auth.basicAuth",
        True,
    ),
    (
        "empty destination",
        _set("eventProcessor.knative.destination", {}),
        "eventProcessor.knative.destination",
        True,
    ),
]


@pytest.mark.parametrize(
    ("mutation", "error_path", "schema_ok"),
    [pytest.param(m, e, s, id=i) for i, m, e, s in MUTATIONS],
)
def test_mutations_match_schema(mutation: Any, error_path: str | None, schema_ok: bool) -> None:
    doc = base()
    mutation(doc)
    if error_path is None:
        load_router_config(doc)
    else:
        with pytest.raises(ConfigError) as info:
            load_router_config(doc)
        assert any(p.startswith(error_path + ":") for p in info.value.problems), info.value.problems
    assert schema_accepts(doc) is schema_ok
    ours_ok = error_path is None
    # Whatever the schema rejects we reject; where we accept, the schema agrees.
    assert ours_ok <= schema_ok


OTHER_MUTATIONS: list[tuple[str, str, Any, str | None, bool]] = [
    (
        "dev__event-router-config-vcenter-aws.yaml",
        "eb no region",
        _del("eventProcessor.awsEventBridge.region"),
        "eventProcessor.awsEventBridge.region",
        False,
    ),
    (
        "dev__event-router-config-vcenter-aws.yaml",
        "eb no auth",
        _del("eventProcessor.awsEventBridge.auth"),
        "eventProcessor.awsEventBridge.auth",
        False,
    ),
    (
        "dev__event-router-config-vcenter-aws.yaml",
        "eb no secret",
        _del("eventProcessor.awsEventBridge.auth.awsAccessKeyAuth.secretKey"),
        "eventProcessor.awsEventBridge.auth.awsAccessKeyAuth.secretKey",
        False,
    ),
    # stricter: EventBridge takes AWS credentials only
    (
        "dev__event-router-config-vcenter-aws.yaml",
        "eb basic auth",
        _set("eventProcessor.awsEventBridge.auth", BASIC),
        "eventProcessor.awsEventBridge.auth.type",
        True,
    ),
    (
        "dev__event-router-config-vcenter-openfaas.yaml",
        "of no async",
        _del("eventProcessor.openfaas.async"),
        "eventProcessor.openfaas.async",
        False,
    ),
    (
        "dev__event-router-config-vcenter-openfaas.yaml",
        "of async string",
        _set("eventProcessor.openfaas.async", "yes please"),
        "eventProcessor.openfaas.async",
        False,
    ),
    (
        "dev__event-router-config-vcenter-openfaas.yaml",
        "of no auth",
        _del("eventProcessor.openfaas.auth"),
        None,
        True,
    ),
    (
        "dev__event-router-config-webhook-knative.yaml",
        "wh no path",
        _del("eventProvider.webhook.path"),
        "eventProvider.webhook.path",
        False,
    ),
    (
        "dev__event-router-config-webhook-knative.yaml",
        "wh no auth",
        _del("eventProvider.webhook.auth"),
        None,
        True,
    ),
    (
        "dev__event-router-config-horizon-knative.yaml",
        "hz no domain",
        _del("eventProvider.horizon.auth.activeDirectoryAuth.domain"),
        "eventProvider.horizon.auth.activeDirectoryAuth.domain",
        False,
    ),
    (
        "dev__event-router-config-horizon-knative.yaml",
        "hz insecure null",
        _set("eventProvider.horizon.insecureSSL", None),
        "eventProvider.horizon.insecureSSL",
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "mutation", "error_path", "schema_ok"),
    [pytest.param(n, m, e, s, id=i) for n, i, m, e, s in OTHER_MUTATIONS],
)
def test_other_sections_match_schema(
    name: str, mutation: Any, error_path: str | None, schema_ok: bool
) -> None:
    doc = copy.deepcopy(load_yaml(name))
    mutation(doc)
    if error_path is None:
        load_router_config(doc)
    else:
        with pytest.raises(ConfigError) as info:
            load_router_config(doc)
        assert any(p.startswith(error_path + ":") for p in info.value.problems), info.value.problems
    assert schema_accepts(doc) is schema_ok
    assert (error_path is None) <= schema_ok


# -- VSphereSource manifests (``veba manifests --config``) ------------------------------------

VSPHERE_SPECS = Path(__file__).parent / "specs" / "vsphere-source"


@pytest.mark.parametrize(
    ("sample", "sink", "encoding"),
    [
        ("samples_tag-new-vms_source.yaml", ("Broker", "default"), "application/xml"),
        ("samples_vcsim_source.yaml", ("Service", "sockeye"), "application/xml"),
        ("README_example_vspheresource.yaml", "http://where.to.send.stuff", "application/json"),
    ],
)
def test_upstream_vsphere_sources_load(sample: str, sink: Any, encoding: str) -> None:
    source = load_config(VSPHERE_SPECS / sample)
    assert isinstance(source, VSphereSource)
    assert source == load_vsphere_source(VSPHERE_SPECS / sample)
    assert source.address.startswith("https://")
    assert source.secret_name == "vsphere-credentials"
    assert source.payload_encoding == encoding
    if isinstance(sink, tuple):
        assert source.sink.ref is not None
        assert (source.sink.ref.kind, source.sink.ref.name) == sink
    else:
        assert source.sink.uri == sink


def test_vebas_vsphere_source_template_needs_ytt_first() -> None:
    with pytest.raises(ConfigError, match="ytt"):
        load_config(VSPHERE_SPECS / "veba" / "vsphere-source-template.ytt.yml")


def _source() -> dict[str, Any]:
    document = yaml.safe_load((VSPHERE_SPECS / "samples_tag-new-vms_source.yaml").read_text())
    assert isinstance(document, dict)
    return document


def test_vsphere_source_broker_and_namespace() -> None:
    document = _source()
    assert load_vsphere_source(document).broker == ("default", None)
    document["metadata"]["namespace"] = "vmware-functions"
    assert load_vsphere_source(document).broker == ("default", "vmware-functions")
    document["spec"]["sink"]["ref"]["namespace"] = "events"
    assert load_vsphere_source(document).broker == ("default", "events")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s.update(sinc=s.pop("sink")), "spec.sinc: unknown field (did you mean 'sink'?)"),
        (
            lambda s: s.update(payloadEncodign="application/json"),
            "spec.payloadEncodign: unknown field (did you mean 'payloadEncoding'?)",
        ),
        (lambda s: s.pop("secretRef"), "spec.secretRef: required"),
        (lambda s: s.update(address="vcsim"), "spec.address: must be an absolute URL"),
        (
            lambda s: s.update(payloadEncoding="text/plain"),
            "spec.payloadEncoding: must be one of application/json, application/xml",
        ),
        (
            lambda s: s.update(checkpointConfig={"maxAgeSeconds": -1}),
            "spec.checkpointConfig.maxAgeSeconds: must be a whole number >= 0",
        ),
        (lambda s: s.update(sink={}), "spec.sink: one of ref, uri is required"),
    ],
)
def test_vsphere_source_problems_name_the_field(change: Any, problem: str) -> None:
    document = _source()
    change(document["spec"])
    with pytest.raises(ConfigError) as info:
        load_config(document)
    assert info.value.problems[0].startswith(problem), info.value.problems


def test_payload_encoding_is_read_case_insensitively() -> None:
    document = _source()
    document["spec"]["payloadEncoding"] = "Application/JSON"
    assert load_vsphere_source(document).payload_encoding == "application/json"


def test_load_config_tells_the_kinds_apart() -> None:
    assert isinstance(load_config(FIXTURES / sorted(PLAIN)[0]), RouterConfig)
    document = _source()
    document["kind"] = "HorizonSource"
    with pytest.raises(ConfigError, match="'HorizonSource' is neither a RouterConfig nor a"):
        load_config(document)
    with pytest.raises(ConfigError, match="kind: must be one of VSphereSource"):
        load_vsphere_source(base())
