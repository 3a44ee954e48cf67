"""The typed RouterConfig and VSphereSource: frozen attrs objects, one per YAML section.

Field names are snake_case; the section readers (:mod:`._readers`, :mod:`._vsphere`) map the
YAML's camelCase keys onto them. Values of secret fields never appear in reprs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from ..wire import JSON_MEDIA_TYPE, XML_MEDIA_TYPE

__all__ = [
    "API_VERSION",
    "AUTH_TYPES",
    "DEFAULT_CHECKPOINT_DIR",
    "ENCODINGS",
    "KIND",
    "PAYLOAD_ENCODINGS",
    "PROCESSOR_TYPES",
    "PROVIDER_TYPES",
    "VSPHERE_SOURCE_API_VERSION",
    "VSPHERE_SOURCE_KIND",
    "ActiveDirectoryAuth",
    "Auth",
    "AwsAccessKeyAuth",
    "BasicAuth",
    "Certificates",
    "Destination",
    "Encoding",
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
]

API_VERSION = "event-router.vmware.com/v1alpha1"
KIND = "RouterConfig"
VSPHERE_SOURCE_API_VERSION = "sources.tanzu.vmware.com/v1alpha1"
VSPHERE_SOURCE_KIND = "VSphereSource"
PAYLOAD_ENCODINGS = (JSON_MEDIA_TYPE, XML_MEDIA_TYPE)

PROVIDER_TYPES = ("vcenter", "vcsim", "horizon", "webhook")
PROCESSOR_TYPES = ("knative", "openfaas", "aws_event_bridge")
AUTH_TYPES = ("basic_auth", "aws_access_key", "aws_iam_role", "active_directory")
#: ``knative.encoding``: the CloudEvents HTTP mode the event router sends (and replies take).
Encoding = Literal["binary", "structured"]
ENCODINGS: tuple[Encoding, ...] = ("binary", "structured")
DEFAULT_CHECKPOINT_DIR = "./checkpoints"


def _hidden(_value: object) -> str:
    """Repr of a secret field: never the value."""
    return "'***'"


def _secret() -> Any:
    return attrs.field(repr=_hidden)


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

    encoding: Encoding
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
    payload_encoding: str = XML_MEDIA_TYPE

    @property
    def broker(self) -> tuple[str, str | None] | None:
        """``(name, namespace)`` of the sink Broker (namespace ``None``: the source's own),
        or ``None`` when the sink is not a Broker."""
        ref = self.sink.ref
        if ref is None or ref.kind != "Broker":
            return None
        return ref.name, ref.namespace or self.namespace
