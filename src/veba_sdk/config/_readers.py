"""The readers of a RouterConfig's sections: one function per section, a Section in, a model out.

Each reader asks its :class:`~._section.Section` for the keys the router's JSON schema defines
(and the rules the schema cannot express: the section matches ``type``, the auth section
matches ``auth.type``, an EventBridge processor takes AWS auth only, a Knative destination
needs ``ref`` or ``uri``); :func:`read_router_config` reads a whole document.
"""

from __future__ import annotations

from typing import Any, cast

from ._models import (
    API_VERSION,
    AUTH_TYPES,
    ENCODINGS,
    KIND,
    PROCESSOR_TYPES,
    PROVIDER_TYPES,
    ActiveDirectoryAuth,
    Auth,
    AwsAccessKeyAuth,
    BasicAuth,
    Certificates,
    Destination,
    Encoding,
    EventBridgeProcessor,
    EventProcessor,
    EventProvider,
    HorizonProvider,
    KnativeProcessor,
    KReference,
    Metadata,
    MetricsDefault,
    MetricsProvider,
    OpenFaasProcessor,
    RouterConfig,
    VCenterProvider,
    VcsimProvider,
    WebhookProvider,
)
from ._section import UNKNOWN_FIELD, Section, did_you_mean, one_section, type_name

__all__ = ["read_kref", "read_router_config"]

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


def _read_auth(sec: Section) -> Auth:
    kind = sec.choice("type", AUTH_TYPES)
    one_section(sec, kind, _AUTH_SECTIONS)
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


def _auth_of(sec: Section, *, required: bool, allowed: tuple[str, ...] = AUTH_TYPES) -> Auth | None:
    auth = sec.read("auth", _read_auth, required=required)
    if auth is not None and auth.type and auth.type not in allowed:
        sec.problem("auth.type", f"must be one of {', '.join(allowed)} here")
    return auth


def _require_auth(sec: Section, **kwargs: Any) -> Auth:
    return _auth_of(sec, required=True, **kwargs) or Auth(type="")


def _read_vcenter(sec: Section) -> VCenterProvider:
    return VCenterProvider(
        address=sec.req_string("address"),
        insecure_ssl=sec.boolean("insecureSSL"),
        checkpoint=sec.boolean("checkpoint"),
        checkpoint_dir=sec.string("checkpointDir", required=False),
        auth=_require_auth(sec),
    )


def _read_vcsim(sec: Section) -> VcsimProvider:
    return VcsimProvider(
        address=sec.req_string("address"),
        insecure_ssl=sec.boolean("insecureSSL"),
        auth=_require_auth(sec),
    )


def _read_horizon(sec: Section) -> HorizonProvider:
    return HorizonProvider(
        address=sec.req_string("address"),
        insecure_ssl=sec.boolean("insecureSSL"),
        auth=_require_auth(sec),
    )


def _read_webhook(sec: Section) -> WebhookProvider:
    return WebhookProvider(
        bind_address=sec.req_string("bindAddress"),
        path=sec.req_string("path"),
        auth=_auth_of(sec, required=False),
    )


def _read_provider(sec: Section) -> EventProvider:
    kind = sec.choice("type", PROVIDER_TYPES)
    name = sec.req_string("name")
    sections = {t: t for t in PROVIDER_TYPES}
    one_section(sec, kind, sections)
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


def read_kref(sec: Section) -> KReference:
    """A Knative object reference (``destination.ref``, a VSphereSource's ``sink.ref``)."""
    return KReference(
        api_version=sec.req_string("apiVersion"),
        kind=sec.req_string("kind"),
        name=sec.req_string("name"),
        namespace=sec.string("namespace", required=False),
    )


def _uri_from_parts(sec: Section) -> str:
    """Build a URL string from the Go ``url.URL`` structure (keys in any case)."""
    canonical = {part.lower(): part for part in _URL_PARTS}
    parts: dict[str, Any] = {}
    for key, value in sec.value.items():
        sec.seen.add(key)
        name = canonical.get(str(key).lower())
        if name is None:
            sec.problem(str(key), UNKNOWN_FIELD + did_you_mean(str(key), set(_URL_PARTS)))
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


def _read_destination(sec: Section) -> Destination:
    ref = sec.read("ref", read_kref, required=False)
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


def _read_knative(sec: Section) -> KnativeProcessor:
    return KnativeProcessor(
        # "" where the value is invalid: then the problem is raised and this object dropped.
        encoding=cast(Encoding, sec.choice("encoding", ENCODINGS)),
        insecure_ssl=sec.boolean("insecureSSL"),
        destination=sec.read("destination", _read_destination) or Destination(),
        auth=_auth_of(sec, required=False),
    )


def _read_openfaas(sec: Section) -> OpenFaasProcessor:
    return OpenFaasProcessor(
        address=sec.req_string("address"),
        async_=sec.boolean("async"),
        auth=_auth_of(sec, required=False),
    )


def _read_event_bridge(sec: Section) -> EventBridgeProcessor:
    return EventBridgeProcessor(
        event_bus=sec.req_string("eventBus"),
        region=sec.req_string("region"),
        rule_arn=sec.req_string("ruleARN"),
        auth=_require_auth(sec, allowed=("aws_access_key", "aws_iam_role")),
    )


def _read_processor(sec: Section) -> EventProcessor:
    kind = sec.choice("type", PROCESSOR_TYPES, aliases=_PROCESSOR_ALIASES)
    name = sec.req_string("name")
    one_section(sec, kind, _PROCESSOR_SECTIONS)
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


def _read_metrics(sec: Section) -> MetricsProvider:
    kind = sec.choice("type", ("default",))
    name = sec.req_string("name")
    default = sec.read(
        "default",
        lambda s: MetricsDefault(
            bind_address=s.req_string("bindAddress"), auth=_auth_of(s, required=False)
        ),
    )
    return MetricsProvider(type=kind, name=name, default=default or MetricsDefault(bind_address=""))


def _read_metadata(sec: Section) -> Metadata:
    name = sec.req_string("name")
    labels: dict[str, str] = {}
    raw = sec.section("labels", required=False)
    if raw is not None:
        for key, value in raw.value.items():
            if not isinstance(value, str):
                raw.problem(str(key), f"must be a string, got {type_name(value)}")
            else:
                labels[str(key)] = value
    return Metadata(name=name, labels=labels)


def _read_certificates(sec: Section) -> Certificates:
    sec.seen.add("rootCAs")
    raw = sec.value.get("rootCAs", [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        sec.problem("rootCAs", "must be a list of strings")
        return Certificates()
    return Certificates(root_cas=tuple(raw))


def read_router_config(sec: Section) -> RouterConfig:
    """A whole RouterConfig document; placeholders stand in where ``sec.problems`` says why."""
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
