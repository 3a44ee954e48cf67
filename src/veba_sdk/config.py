"""Load and validate a VEBA ``RouterConfig``.

The VMware Event Router is configured by one YAML (or JSON) document::

    apiVersion: event-router.vmware.com/v1alpha1
    kind: RouterConfig
    metadata: {name: ...}
    eventProvider: {type: vcenter, name: ..., vcenter: {...}}
    eventProcessor: {type: knative, name: ..., knative: {...}}
    metricsProvider: {type: default, name: ..., default: {...}}

:func:`load_router_config` turns such a document into frozen attrs objects and
checks it the way the router's published JSON schema does (required fields,
types, enumerations, no unknown fields, exactly one section per provider,
processor and auth block). Every problem is reported with the dotted path of
the offending field, e.g. ``eventProcessor.knative.encoding: must be one of
binary, structured``; values of secret fields never appear in messages or
reprs. Unknown keys come first, each with the known key it is closest to
(``eventProvider.vcenter.adress: unknown field (did you mean 'address'?)``):
a misspelt key is usually what the other problems follow from.

Deliberate differences from the JSON schema (``routerconfig.schema.json``),
each because the schema disagrees with configs VEBA itself ships:

* ``auth.type: aws_iam_role`` needs no sub-section (the schema's ``oneOf``
  demands one of ``basicAuth``/``awsAccessKeyAuth``/``activeDirectoryAuth``,
  but an IAM role has no credentials to give).
* ``eventProcessor.type: awsEventBridge`` (used by VEBA v0.6.0's example
  config) is read as ``aws_event_bridge``.
* ``knative.destination.uri`` may be a plain URL string (how Knative's
  ``apis.URL`` is written in practice) as well as the Go ``url.URL`` structure
  the schema was generated from; both become a URL string.

And stricter, where the schema cannot express a rule the router enforces:
the section must match ``type`` (``type: vcenter`` needs ``vcenter:``), the
auth section must match ``auth.type``, an EventBridge processor takes only AWS
auth, a Knative destination needs ``ref`` or ``uri``, and YAML mapping keys
must not repeat.

Helm charts and ytt templates (``{{ ... }}``, ``#@ ...``) are not
RouterConfigs until rendered; loading one fails with a hint to render it first.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from veba_sdk._errors import ConfigError

__all__ = [
    "API_VERSION",
    "KIND",
    "ActiveDirectoryAuth",
    "Auth",
    "AwsAccessKeyAuth",
    "BasicAuth",
    "Certificates",
    "ConfigError",
    "Destination",
    "EventBridgeProcessor",
    "EventProcessor",
    "EventProvider",
    "HorizonProvider",
    "KReference",
    "KnativeProcessor",
    "Metadata",
    "MetricsDefault",
    "MetricsProvider",
    "OpenFaasProcessor",
    "RouterConfig",
    "VCenterProvider",
    "VSphereSource",
    "VcsimProvider",
    "WebhookProvider",
    "load_config",
    "load_router_config",
    "load_vsphere_source",
]

API_VERSION = "event-router.vmware.com/v1alpha1"
KIND = "RouterConfig"
VSPHERE_SOURCE_API_VERSION = "sources.tanzu.vmware.com/v1alpha1"
VSPHERE_SOURCE_KIND = "VSphereSource"
PAYLOAD_ENCODINGS = ("application/json", "application/xml")

PROVIDER_TYPES = ("vcenter", "vcsim", "horizon", "webhook")
PROCESSOR_TYPES = ("knative", "openfaas", "aws_event_bridge")
AUTH_TYPES = ("basic_auth", "aws_access_key", "aws_iam_role", "active_directory")
ENCODINGS = ("binary", "structured")
DEFAULT_CHECKPOINT_DIR = "./checkpoints"

_PROCESSOR_ALIASES = {"awsEventBridge": "aws_event_bridge"}
_PROCESSOR_SECTIONS = {
    "knative": "knative",
    "openfaas": "openfaas",
    "aws_event_bridge": "awsEventBridge",
}
_AUTH_SECTIONS = {
    "basic_auth": "basicAuth",
    "aws_access_key": "awsAccessKeyAuth",
    "active_directory": "activeDirectoryAuth",
}
_URL_PARTS = (
    "Scheme",
    "Opaque",
    "User",
    "Host",
    "Path",
    "RawPath",
    "ForceQuery",
    "RawQuery",
    "Fragment",
    "RawFragment",
)


def _hidden(_value: object) -> str:
    """Repr of a secret field: never the value."""
    return "'***'"


def _secret() -> Any:
    return attrs.field(repr=_hidden)


# -- typed model ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BasicAuth:
    """``basicAuth``: a username and password."""

    username: str
    password: str = _secret()


@attrs.frozen(kw_only=True)
class AwsAccessKeyAuth:
    """``awsAccessKeyAuth``: an AWS access key id and secret key."""

    access_key: str
    secret_key: str = _secret()


@attrs.frozen(kw_only=True)
class ActiveDirectoryAuth:
    """``activeDirectoryAuth``: domain, username and password (Horizon)."""

    domain: str
    username: str
    password: str = _secret()


@attrs.frozen(kw_only=True)
class Auth:
    """An ``auth`` block; exactly the section named by ``type`` is set."""

    type: str
    basic_auth: BasicAuth | None = None
    aws_access_key_auth: AwsAccessKeyAuth | None = None
    active_directory_auth: ActiveDirectoryAuth | None = None


@attrs.frozen(kw_only=True)
class VCenterProvider:
    """``eventProvider.vcenter``."""

    address: str
    insecure_ssl: bool
    checkpoint: bool
    checkpoint_dir: str | None = None
    auth: Auth

    @property
    def effective_checkpoint_dir(self) -> str:
        """``checkpointDir``, or the router's default ``./checkpoints``."""
        return self.checkpoint_dir or DEFAULT_CHECKPOINT_DIR


@attrs.frozen(kw_only=True)
class VcsimProvider:
    """``eventProvider.vcsim`` (the router's simulator provider)."""

    address: str
    insecure_ssl: bool
    auth: Auth


@attrs.frozen(kw_only=True)
class HorizonProvider:
    """``eventProvider.horizon``."""

    address: str
    insecure_ssl: bool
    auth: Auth


@attrs.frozen(kw_only=True)
class WebhookProvider:
    """``eventProvider.webhook``."""

    bind_address: str
    path: str
    auth: Auth | None = None


@attrs.frozen(kw_only=True)
class EventProvider:
    """``eventProvider``: ``type`` names which one section is set."""

    type: str
    name: str
    vcenter: VCenterProvider | None = None
    vcsim: VcsimProvider | None = None
    horizon: HorizonProvider | None = None
    webhook: WebhookProvider | None = None


@attrs.frozen(kw_only=True)
class KReference:
    """A Knative object reference (``destination.ref``)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None


@attrs.frozen(kw_only=True)
class Destination:
    """``knative.destination``: a ``ref``, a ``uri`` (normalised to a string), or both."""

    ref: KReference | None = None
    uri: str | None = None


@attrs.frozen(kw_only=True)
class KnativeProcessor:
    """``eventProcessor.knative``."""

    encoding: str
    insecure_ssl: bool
    destination: Destination
    auth: Auth | None = None


@attrs.frozen(kw_only=True)
class OpenFaasProcessor:
    """``eventProcessor.openfaas``; ``async_`` is the YAML ``async`` flag."""

    address: str
    async_: bool
    auth: Auth | None = None


@attrs.frozen(kw_only=True)
class EventBridgeProcessor:
    """``eventProcessor.awsEventBridge``."""

    event_bus: str
    region: str
    rule_arn: str
    auth: Auth


@attrs.frozen(kw_only=True)
class EventProcessor:
    """``eventProcessor``: ``type`` names which one section is set."""

    type: str
    name: str
    knative: KnativeProcessor | None = None
    openfaas: OpenFaasProcessor | None = None
    aws_event_bridge: EventBridgeProcessor | None = None


@attrs.frozen(kw_only=True)
class MetricsDefault:
    """``metricsProvider.default``."""

    bind_address: str
    auth: Auth | None = None


@attrs.frozen(kw_only=True)
class MetricsProvider:
    """``metricsProvider``."""

    type: str
    name: str
    default: MetricsDefault


@attrs.frozen(kw_only=True)
class Certificates:
    """``certificates``: extra root CAs (PEM text)."""

    root_cas: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Metadata:
    """``metadata``."""

    name: str
    labels: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class RouterConfig:
    """A validated VEBA RouterConfig."""

    api_version: str
    kind: str
    metadata: Metadata
    event_provider: EventProvider
    event_processor: EventProcessor
    metrics_provider: MetricsProvider
    certificates: Certificates | None = None


@attrs.frozen(kw_only=True)
class VSphereSource:
    """A validated ``VSphereSource`` (``sources.tanzu.vmware.com/v1alpha1``).

    The appliance's (v0.8+) producer of vCenter events: it reads ``address`` and sends each
    event as a CloudEvent to ``sink``, usually the ``default`` Broker in ``vmware-functions``.
    ``namespace`` is the object's ``metadata.namespace`` (``None`` when the manifest leaves it
    to ``kubectl``); ``payload_encoding`` defaults to ``application/xml`` as the source's own.
    """

    name: str
    namespace: str | None = None
    address: str
    skip_tls_verify: bool = False
    secret_name: str
    sink: Destination
    payload_encoding: str = "application/xml"

    @property
    def broker(self) -> tuple[str, str | None] | None:
        """``(name, namespace)`` of the sink Broker (namespace ``None``: the source's own),
        or ``None`` when the sink is not a Broker."""
        ref = self.sink.ref
        if ref is None or ref.kind != "Broker":
            return None
        return ref.name, ref.namespace or self.namespace


# -- reading -------------------------------------------------------------------------------

_T = TypeVar("_T")

_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def _type_name(value: object) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    if isinstance(value, Mapping):
        return "mapping"
    return type(value).__name__


class _Section:
    """One mapping being read: records problems under its dotted path, tracks unknown keys."""

    def __init__(self, value: Mapping[str, Any], path: str, problems: list[str]) -> None:
        self.value = value
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()
        self.known: set[str] = set()  # every key this section's reader asked about

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where(key)}: {message}")

    def has(self, key: str) -> bool:
        self.known.add(key)
        return key in self.value

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        self.known.add(key)
        if key not in self.value:
            if required:
                self.problem(key, "required")
            return None
        return self.value[key]

    def string(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None and key not in self.value:
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {_type_name(value)}")
            return None
        return value

    def req_string(self, key: str) -> str:
        return self.string(key) or ""

    def boolean(self, key: str, *, required: bool = True) -> bool:
        value = self._get(key, required)
        if value is None and key not in self.value:
            return False
        if not isinstance(value, bool):
            self.problem(key, f"must be a boolean, got {_type_name(value)}")
            return False
        return value

    def choice(
        self,
        key: str,
        choices: tuple[str, ...],
        aliases: Mapping[str, str] | None = None,
    ) -> str:
        value = self._get(key, True)
        if value is None and key not in self.value:
            return ""
        if isinstance(value, str) and aliases and value in aliases:
            return aliases[value]
        if not isinstance(value, str) or value not in choices:
            self.problem(key, f"must be one of {', '.join(choices)}")
            return ""
        return value

    def section(self, key: str, *, required: bool = True) -> _Section | None:
        value = self._get(key, required)
        if value is None and key not in self.value:
            return None
        if not isinstance(value, Mapping):
            self.problem(key, f"must be a mapping, got {_type_name(value)}")
            return None
        return _Section(value, self.where(key), self.problems)

    def read(
        self, key: str, reader: Callable[[_Section], _T], *, required: bool = True
    ) -> _T | None:
        sub = self.section(key, required=required)
        if sub is None:
            return None
        result = reader(sub)
        sub.finish()
        return result

    def finish(self) -> None:
        for key in self.value:
            if key not in self.seen:
                self.problems.append(
                    f"{self.where(str(key))}: {UNKNOWN_FIELD}{_did_you_mean(str(key), self.known)}"
                )


UNKNOWN_FIELD = "unknown field"


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, change, swap of neighbours) turning ``a`` into ``b``."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


def _did_you_mean(key: str, known: set[str]) -> str:
    """`` (did you mean 'address'?)`` for a key close to a known one (case-insensitively)."""
    import difflib

    lowered = key.lower()
    scored = []
    for candidate in sorted(known):
        ratio = difflib.SequenceMatcher(None, lowered, candidate.lower()).ratio()
        edits = _edits(lowered, candidate.lower())
        if edits <= max(1, len(key) // 3) or ratio >= 0.8:
            scored.append((edits, -ratio, candidate))
    return f" (did you mean {min(scored)[2]!r}?)" if scored else ""


def _unknown_first(problems: list[str]) -> list[str]:
    """Unknown keys first (a misspelt key is usually the cause of the rest), else in order."""
    return sorted(problems, key=lambda p: f": {UNKNOWN_FIELD}" not in p)


def _one_section(sec: _Section, kind: str, choices: Mapping[str, str]) -> None:
    """Exactly one of the sections in ``choices`` is present, and it is the one ``kind`` names."""
    present = [name for name in choices.values() if sec.has(name)]
    wanted = choices.get(kind)
    if len(present) > 1:
        sec.problems.append(f"{sec.path}: only one of {', '.join(present)} may be set")
    elif wanted is not None and present and present[0] != wanted:
        sec.problems.append(
            f"{sec.path}.{present[0]}: does not match type {kind!r} (expected {wanted})"
        )


def _read_auth(sec: _Section) -> Auth:
    kind = sec.choice("type", AUTH_TYPES)
    _one_section(sec, kind, _AUTH_SECTIONS)
    wanted = _AUTH_SECTIONS.get(kind)
    basic = aws = ad = None
    if wanted is not None and not sec.has(wanted) and kind:
        sec.problem(wanted, f"required for auth type {kind}")
    if sec.has("basicAuth"):
        basic = sec.read(
            "basicAuth",
            lambda s: BasicAuth(
                username=s.req_string("username"), password=s.req_string("password")
            ),
        )
    if sec.has("awsAccessKeyAuth"):
        aws = sec.read(
            "awsAccessKeyAuth",
            lambda s: AwsAccessKeyAuth(
                access_key=s.req_string("accessKey"), secret_key=s.req_string("secretKey")
            ),
        )
    if sec.has("activeDirectoryAuth"):
        ad = sec.read(
            "activeDirectoryAuth",
            lambda s: ActiveDirectoryAuth(
                domain=s.req_string("domain"),
                username=s.req_string("username"),
                password=s.req_string("password"),
            ),
        )
    return Auth(type=kind, basic_auth=basic, aws_access_key_auth=aws, active_directory_auth=ad)


def _auth_of(
    sec: _Section, *, required: bool, allowed: tuple[str, ...] = AUTH_TYPES
) -> Auth | None:
    auth = sec.read("auth", _read_auth, required=required)
    if auth is not None and auth.type and auth.type not in allowed:
        sec.problem("auth.type", f"must be one of {', '.join(allowed)} here")
    return auth


def _require_auth(sec: _Section, **kwargs: Any) -> Auth:
    return _auth_of(sec, required=True, **kwargs) or Auth(type="")


def _read_vcenter(sec: _Section) -> VCenterProvider:
    return VCenterProvider(
        address=sec.req_string("address"),
        insecure_ssl=sec.boolean("insecureSSL"),
        checkpoint=sec.boolean("checkpoint"),
        checkpoint_dir=sec.string("checkpointDir", required=False),
        auth=_require_auth(sec),
    )


def _read_vcsim(sec: _Section) -> VcsimProvider:
    return VcsimProvider(
        address=sec.req_string("address"),
        insecure_ssl=sec.boolean("insecureSSL"),
        auth=_require_auth(sec),
    )


def _read_horizon(sec: _Section) -> HorizonProvider:
    return HorizonProvider(
        address=sec.req_string("address"),
        insecure_ssl=sec.boolean("insecureSSL"),
        auth=_require_auth(sec),
    )


def _read_webhook(sec: _Section) -> WebhookProvider:
    return WebhookProvider(
        bind_address=sec.req_string("bindAddress"),
        path=sec.req_string("path"),
        auth=_auth_of(sec, required=False),
    )


def _read_provider(sec: _Section) -> EventProvider:
    kind = sec.choice("type", PROVIDER_TYPES)
    name = sec.req_string("name")
    sections = {t: t for t in PROVIDER_TYPES}
    _one_section(sec, kind, sections)
    if kind and not sec.has(kind):
        sec.problem(kind, f"required for type {kind}")
    return EventProvider(
        type=kind,
        name=name,
        vcenter=sec.read("vcenter", _read_vcenter, required=False),
        vcsim=sec.read("vcsim", _read_vcsim, required=False),
        horizon=sec.read("horizon", _read_horizon, required=False),
        webhook=sec.read("webhook", _read_webhook, required=False),
    )


def _read_kref(sec: _Section) -> KReference:
    return KReference(
        api_version=sec.req_string("apiVersion"),
        kind=sec.req_string("kind"),
        name=sec.req_string("name"),
        namespace=sec.string("namespace", required=False),
    )


def _uri_from_parts(sec: _Section) -> str:
    """Build a URL string from the Go ``url.URL`` structure (keys in any case)."""
    canonical = {part.lower(): part for part in _URL_PARTS}
    parts: dict[str, Any] = {}
    for key, value in sec.value.items():
        sec.seen.add(key)
        name = canonical.get(str(key).lower())
        if name is None:
            sec.problem(str(key), UNKNOWN_FIELD + _did_you_mean(str(key), set(_URL_PARTS)))
            continue
        parts[name] = value
    scheme = str(parts.get("Scheme") or "")
    host = str(parts.get("Host") or "")
    if parts.get("Opaque"):
        return f"{scheme}:{parts['Opaque']}"
    if not scheme or not host:
        sec.problems.append(f"{sec.path}: needs at least scheme and host")
        return ""
    url = f"{scheme}://{host}{parts.get('Path') or ''}"
    if parts.get("RawQuery") or parts.get("ForceQuery"):
        url += f"?{parts.get('RawQuery') or ''}"
    if parts.get("Fragment"):
        url += f"#{parts['Fragment']}"
    return url


def _read_destination(sec: _Section) -> Destination:
    ref = sec.read("ref", _read_kref, required=False)
    uri: str | None = None
    if sec.has("uri"):
        raw = sec.value["uri"]
        if isinstance(raw, str):
            sec.seen.add("uri")
            uri = raw
            if "://" not in raw:
                sec.problem("uri", "must be an absolute URL (scheme://host/...)")
        else:
            uri = sec.read("uri", _uri_from_parts)
    if ref is None and uri is None and not sec.has("ref"):
        sec.problems.append(f"{sec.path}: one of ref, uri is required")
    return Destination(ref=ref, uri=uri)


def _read_knative(sec: _Section) -> KnativeProcessor:
    return KnativeProcessor(
        encoding=sec.choice("encoding", ENCODINGS),
        insecure_ssl=sec.boolean("insecureSSL"),
        destination=sec.read("destination", _read_destination) or Destination(),
        auth=_auth_of(sec, required=False),
    )


def _read_openfaas(sec: _Section) -> OpenFaasProcessor:
    return OpenFaasProcessor(
        address=sec.req_string("address"),
        async_=sec.boolean("async"),
        auth=_auth_of(sec, required=False),
    )


def _read_event_bridge(sec: _Section) -> EventBridgeProcessor:
    return EventBridgeProcessor(
        event_bus=sec.req_string("eventBus"),
        region=sec.req_string("region"),
        rule_arn=sec.req_string("ruleARN"),
        auth=_require_auth(sec, allowed=("aws_access_key", "aws_iam_role")),
    )


def _read_processor(sec: _Section) -> EventProcessor:
    kind = sec.choice("type", PROCESSOR_TYPES, aliases=_PROCESSOR_ALIASES)
    name = sec.req_string("name")
    _one_section(sec, kind, _PROCESSOR_SECTIONS)
    wanted = _PROCESSOR_SECTIONS.get(kind)
    if wanted and not sec.has(wanted):
        sec.problem(wanted, f"required for type {kind}")
    return EventProcessor(
        type=kind,
        name=name,
        knative=sec.read("knative", _read_knative, required=False),
        openfaas=sec.read("openfaas", _read_openfaas, required=False),
        aws_event_bridge=sec.read("awsEventBridge", _read_event_bridge, required=False),
    )


def _read_metrics(sec: _Section) -> MetricsProvider:
    kind = sec.choice("type", ("default",))
    name = sec.req_string("name")
    default = sec.read(
        "default",
        lambda s: MetricsDefault(
            bind_address=s.req_string("bindAddress"), auth=_auth_of(s, required=False)
        ),
    )
    return MetricsProvider(type=kind, name=name, default=default or MetricsDefault(bind_address=""))


def _read_metadata(sec: _Section) -> Metadata:
    name = sec.req_string("name")
    labels: dict[str, str] = {}
    raw = sec.section("labels", required=False)
    if raw is not None:
        for key, value in raw.value.items():
            if not isinstance(value, str):
                raw.problem(str(key), f"must be a string, got {_type_name(value)}")
            else:
                labels[str(key)] = value
    return Metadata(name=name, labels=labels)


def _read_certificates(sec: _Section) -> Certificates:
    sec.seen.add("rootCAs")
    raw = sec.value.get("rootCAs", [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        sec.problem("rootCAs", "must be a list of strings")
        return Certificates()
    return Certificates(root_cas=tuple(raw))


def _read_root(sec: _Section) -> RouterConfig:
    api_version = sec.choice("apiVersion", (API_VERSION,))
    kind = sec.choice("kind", (KIND,))
    return RouterConfig(
        api_version=api_version,
        kind=kind,
        metadata=sec.read("metadata", _read_metadata) or Metadata(name=""),
        event_provider=sec.read("eventProvider", _read_provider) or EventProvider(type="", name=""),
        event_processor=sec.read("eventProcessor", _read_processor)
        or EventProcessor(type="", name=""),
        metrics_provider=sec.read("metricsProvider", _read_metrics)
        or MetricsProvider(type="", name="", default=MetricsDefault(bind_address="")),
        certificates=sec.read("certificates", _read_certificates, required=False),
    )


def _read_sink(sec: _Section) -> Destination:
    ref = sec.read("ref", _read_kref, required=False)
    uri = sec.string("uri", required=False)
    for optional in ("CACerts", "audience"):
        sec.string(optional, required=False)
    if uri is not None and "://" not in uri and ref is None:
        sec.problem("uri", "must be an absolute URL (scheme://host/...) without a ref")
    if ref is None and uri is None and not sec.has("ref"):
        sec.problems.append(f"{sec.path}: one of ref, uri is required")
    return Destination(ref=ref, uri=uri)


def _non_negative(sec: _Section, key: str) -> None:
    value = sec._get(key, False)
    if key in sec.value and (type(value) is not int or value < 0):
        sec.problem(key, "must be a whole number >= 0")


def _read_checkpoint(sec: _Section) -> None:
    _non_negative(sec, "maxAgeSeconds")
    _non_negative(sec, "periodSeconds")


def _read_source_spec(sec: _Section, metadata: dict[str, str | None]) -> VSphereSource:
    address = sec.req_string("address")
    if address and "://" not in address:
        sec.problem("address", "must be an absolute URL (https://vcenter/...)")
    secret = sec.read("secretRef", lambda s: s.req_string("name")) or ""
    sink = sec.read("sink", _read_sink) or Destination()
    encoding = (sec.string("payloadEncoding", required=False) or "application/xml").lower()
    if encoding not in PAYLOAD_ENCODINGS:
        sec.problem("payloadEncoding", f"must be one of {', '.join(PAYLOAD_ENCODINGS)}")
    sec.read("checkpointConfig", _read_checkpoint, required=False)
    sec.string("serviceAccountName", required=False)
    overrides = sec.section("ceOverrides", required=False)
    if overrides is not None:
        overrides.seen.update(overrides.value)  # extensions are free-form
    return VSphereSource(
        name=metadata["name"] or "",
        namespace=metadata["namespace"],
        address=address,
        skip_tls_verify=sec.boolean("skipTLSVerify", required=False),
        secret_name=secret,
        sink=sink,
        payload_encoding=encoding,
    )


def _read_object_metadata(sec: _Section) -> dict[str, str | None]:
    found = {"name": sec.req_string("name"), "namespace": sec.string("namespace", required=False)}
    sec.seen.update(sec.value)  # labels, annotations, ...: Kubernetes' business
    return found


def _read_vsphere_source(sec: _Section) -> VSphereSource:
    sec.choice("apiVersion", (VSPHERE_SOURCE_API_VERSION,))
    sec.choice("kind", (VSPHERE_SOURCE_KIND,))
    metadata = sec.read("metadata", _read_object_metadata) or {"name": "", "namespace": None}
    sec.seen.add("status")
    spec = sec.read("spec", lambda s: _read_source_spec(s, metadata))
    return spec or VSphereSource(name="", address="", secret_name="", sink=Destination())


# -- parsing text --------------------------------------------------------------------------


def _template_hint(text: str) -> str:
    if "{{" in text:
        return " (this looks like a Helm template: render it with `helm template` first)"
    if "#@" in text:
        return " (this looks like a ytt template: render it with `ytt` first)"
    return ""


#: The deepest nesting a configuration document may have (a RouterConfig needs 5 levels).
MAX_DEPTH = 64
#: The largest configuration file read, in bytes (a RouterConfig is a few KB).
MAX_CONFIG_BYTES = 1 << 20


def _too_deep() -> ConfigError:
    return ConfigError(f"the document is nested more than {MAX_DEPTH} levels deep")


def _check_depth(document: Any) -> None:
    """Refuse a document nested deeper than :data:`MAX_DEPTH` (YAML aliases included).

    Iterative, and each container is measured once however many aliases share it, so a
    "billion laughs" document costs what its distinct containers cost.
    """
    heights: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, Any]] = []

    def children(value: Any) -> Any:
        if isinstance(value, Mapping):
            return iter([*value.keys(), *value.values()])
        return iter(value)

    if not isinstance(document, _CONTAINERS):
        return
    stack.append((document, children(document)))
    on_path.add(id(document))
    while stack:
        node, pending = stack[-1]
        child = next(pending, _DONE)
        if child is _DONE:
            stack.pop()
            on_path.discard(id(node))
            height = 1 + max(
                (heights.get(id(c), 0) for c in children(node) if isinstance(c, _CONTAINERS)),
                default=0,
            )
            if height + len(stack) > MAX_DEPTH:
                raise _too_deep()
            heights[id(node)] = height
            continue
        if not isinstance(child, _CONTAINERS) or id(child) in heights:
            if id(child) in heights and heights[id(child)] + len(stack) > MAX_DEPTH:
                raise _too_deep()
            continue
        if id(child) in on_path:
            raise ConfigError("the document contains itself (a recursive YAML alias)")
        if len(stack) >= MAX_DEPTH:
            raise _too_deep()
        on_path.add(id(child))
        stack.append((child, children(child)))


_DONE = object()
_CONTAINERS = (Mapping, list, tuple)


def _parse_yaml(text: str) -> Any:
    try:
        import yaml  # optional dependency, imported where used
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "reading YAML needs PyYAML: pip install 'veba-sdk[cli]' (or give JSON)"
        ) from exc

    # A SafeLoader that refuses repeated mapping keys (PyYAML silently keeps the last) and
    # unhashable ones, takes merge keys (<<: *anchor) as safe_load does, and bounds nesting
    # while composing (PyYAML's composer recurses once per level).
    strict_loader: Any = type("_StrictLoader", (yaml.SafeLoader,), {"_depth": 0})

    def compose_node(loader: Any, parent: Any, index: Any) -> Any:
        loader._depth += 1
        try:
            if loader._depth > MAX_DEPTH + 1:  # + 1: scalars are nodes too
                raise _too_deep()
            return yaml.SafeLoader.compose_node(loader, parent, index)
        finally:
            loader._depth -= 1

    strict_loader.compose_node = compose_node

    def construct_mapping(loader: yaml.SafeLoader, node: Any, deep: bool = False) -> Any:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merged keys may be overridden by the mapping's own
            key = loader.construct_object(key_node, deep=deep)
            try:
                seen = key in keys
            except TypeError:
                raise ConfigError(
                    f"a mapping key at line {key_node.start_mark.line + 1} is a "
                    f"{_type_name(key)}: keys must be text" + _template_hint(text)
                ) from None
            if seen:
                raise ConfigError(
                    f"duplicate key {key!r} at line {key_node.start_mark.line + 1}"
                    + _template_hint(text)
                )
            keys.add(key)
        return loader.construct_mapping(node, deep=deep)

    strict_loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=strict_loader) if doc is not None]
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"not valid YAML: {reason}{_template_hint(text)}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a value's constructor: 13th month...
        reason = " ".join(str(exc).split())[:200]
        raise ConfigError(f"not valid YAML: {type(exc).__name__}: {reason}") from None
    except RecursionError:
        raise _too_deep() from None
    if len(documents) != 1:
        raise ConfigError(f"expected one YAML document, found {len(documents)}")
    _check_depth(documents[0])
    return documents[0]


def _parse_text(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except RecursionError:
            raise _too_deep() from None
        except ValueError:
            pass  # YAML flow mappings are not JSON; let the YAML parser report
        else:
            _check_depth(document)
            return document
    return _parse_yaml(text)


def _decoded(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where} is not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from None


def _read_source(path_or_text: str | bytes | os.PathLike[str]) -> str:
    if isinstance(path_or_text, bytes):
        return _decoded(path_or_text, "the configuration")
    if isinstance(path_or_text, os.PathLike) or (
        "\n" not in path_or_text
        and not path_or_text.lstrip().startswith("{")
        and (
            os.path.exists(path_or_text)
            or path_or_text.endswith((".yaml", ".yml", ".json"))
            or ": " not in path_or_text  # one line with no "key: value" is no YAML mapping
        )
    ):
        path = os.fspath(path_or_text)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG and isinstance(path_or_text, str):
                return path_or_text  # no file can have that name: it is the document
            shown = path if len(path) <= 200 else path[:200] + "..."
            raise ConfigError(f"cannot read {shown}: {exc.strerror}") from None
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path} is over the {MAX_CONFIG_BYTES} byte limit of a configuration"
            )
        return _decoded(data, path)
    return path_or_text


def _document(path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any]) -> tuple[Any, str]:
    """The parsed document and its text (empty for a mapping given as such)."""
    if isinstance(path_or_text, Mapping):
        return path_or_text, ""
    text = _read_source(path_or_text)
    return _parse_text(text), text


def _validated(document: Any, text: str, reader: Callable[[_Section], _T], what: str) -> _T:
    if not isinstance(document, Mapping):
        raise ConfigError(
            f"a {what} must be a mapping, got {_type_name(document)}{_template_hint(text)}"
        )
    problems: list[str] = []
    root = _Section(document, "", problems)
    result = reader(root)
    root.finish()
    if problems:
        raise ConfigError.from_problems(_unknown_first(problems), hint=_template_hint(text))
    return result


def load_router_config(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> RouterConfig:
    """Parse and validate a RouterConfig.

    ``path_or_text`` is a file path (``str`` or path-like), YAML or JSON text,
    or an already-parsed mapping. Raises :class:`ConfigError` naming every
    invalid field by its dotted path.
    """
    document, text = _document(path_or_text)
    return _validated(document, text, _read_root, KIND)


def load_vsphere_source(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> VSphereSource:
    """Parse and validate a ``VSphereSource`` manifest (what the appliance's webhook checks).

    Accepts what :func:`load_router_config` accepts. Checked as the source's admission webhook
    does: ``spec.address`` (an absolute URL), ``spec.secretRef.name`` and ``spec.sink`` (a
    ``ref`` or an absolute ``uri``) are required, ``payloadEncoding`` is ``application/json``
    or ``application/xml``, checkpoint seconds are >= 0; unknown ``spec`` keys are reported
    with a did-you-mean (the CRD would keep them, and the source would ignore a misspelt one).

    Raises:
        ConfigError: naming every invalid field by its dotted path.
    """
    document, text = _document(path_or_text)
    return _validated(document, text, _read_vsphere_source, VSPHERE_SOURCE_KIND)


def load_config(
    path_or_text: str | bytes | os.PathLike[str] | Mapping[str, Any],
) -> RouterConfig | VSphereSource:
    """A RouterConfig or a VSphereSource, by the document's ``kind``.

    A document without ``kind`` is read as a RouterConfig (and reported as one).

    Raises:
        ConfigError: invalid, or of another kind.
    """
    document, text = _document(path_or_text)
    kind = document.get("kind") if isinstance(document, Mapping) else None
    if kind == VSPHERE_SOURCE_KIND:
        return _validated(document, text, _read_vsphere_source, VSPHERE_SOURCE_KIND)
    if kind not in (None, KIND):
        raise ConfigError(f"kind: {kind!r} is neither a {KIND} nor a {VSPHERE_SOURCE_KIND}")
    return _validated(document, text, _read_root, KIND)
