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

The package's modules, by job: ``_models`` (the attrs classes), ``_section`` (reading one
mapping: typed getters, did-you-mean, unknown keys first), ``_readers`` and ``_vsphere`` (one
reader per section), ``_text`` (bounded file reads, strict YAML, nesting depth) and ``_load``
(the entry points below).
"""

from __future__ import annotations

from .._errors import ConfigError
from ._load import load_config, load_router_config, load_vsphere_source
from ._models import (
    API_VERSION,
    KIND,
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
    VSphereSource,
    WebhookProvider,
)

# Public as before and outside __all__ as before: imported "as" themselves to say so.
from ._models import AUTH_TYPES as AUTH_TYPES
from ._models import DEFAULT_CHECKPOINT_DIR as DEFAULT_CHECKPOINT_DIR
from ._models import ENCODINGS as ENCODINGS
from ._models import PAYLOAD_ENCODINGS as PAYLOAD_ENCODINGS
from ._models import PROCESSOR_TYPES as PROCESSOR_TYPES
from ._models import PROVIDER_TYPES as PROVIDER_TYPES
from ._models import VSPHERE_SOURCE_API_VERSION as VSPHERE_SOURCE_API_VERSION
from ._models import VSPHERE_SOURCE_KIND as VSPHERE_SOURCE_KIND
from ._section import UNKNOWN_FIELD as UNKNOWN_FIELD
from ._text import MAX_CONFIG_BYTES as MAX_CONFIG_BYTES
from ._text import MAX_DEPTH as MAX_DEPTH
from ._text import check_depth

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
    "check_depth",
    "load_config",
    "load_router_config",
    "load_vsphere_source",
]
