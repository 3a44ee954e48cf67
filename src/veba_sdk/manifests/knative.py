"""Knative ``Service`` and ``Trigger`` manifests from a router's routes.

One Trigger per subscription, on the broker the events arrive at, filtering the CloudEvent
attributes exactly as the producer sends them:

* event router (``producer="router"``): ``type`` is ``com.vmware.event.router/<category>`` and
  the event name is in ``subject``;
* VSphereSource (``producer="vsphere-source"``): ``type`` is ``com.vmware.vsphere.<name>.v0``
  and the category is in the ``eventclass`` extension.

Exact names use the legacy ``filter.attributes`` (every Knative release understands it); globs
and exclusions need the ``filters`` dialects (``exact``/``prefix``/``suffix``/``all``/``any``/
``not``; GA since Knative Eventing 1.15, behind the ``new-trigger-filters`` flag before).
Subscriptions that may overlap exclude each other with ``not``, so no event is delivered twice.
A catch-all route (``"*"`` or a default handler) gives one Trigger without a filter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._selectors import ManifestError, Selector, disjoint, selectors_for

if TYPE_CHECKING:
    from .._router import Router

__all__ = [
    "DEFAULT_BROKER",
    "DEFAULT_NAMESPACE",
    "filter_items",
    "knative_manifests",
    "trigger_names",
]

DEFAULT_BROKER = "default"
DEFAULT_NAMESPACE = "vmware-functions"
ROUTER_TYPE_PREFIX = "com.vmware.event.router/"
VSPHERE_TYPE_PREFIX = "com.vmware.vsphere."
VSPHERE_TYPE_SUFFIX = ".v0"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MAX_NAME = 63

Item = dict[str, Any]


def _glob_items(attribute: str, pattern: str) -> list[Item]:
    """Filter items (ANDed) that select attribute values matching an ``fnmatch`` glob."""
    if "[" in pattern or "?" in pattern or pattern.count("*") > 1:
        # Knative's prefix/suffix cannot say "contains" or "one character"; CESQL LIKE can.
        if "[" in pattern:
            raise ManifestError(
                f"glob {pattern!r} uses a character class, which Knative filters cannot express"
            )
        like = (
            pattern.replace("\\", "\\\\")
            .replace("%", "\\%")
            .replace("_", "\\_")
            .replace("'", "\\'")
            .replace("*", "%")
            .replace("?", "_")
        )
        return [{"cesql": f"{attribute} LIKE '{like}'"}]
    if "*" not in pattern:
        return [{"exact": {attribute: pattern}}]
    prefix, suffix = pattern.split("*", 1)
    items: list[Item] = []
    if prefix:
        items.append({"prefix": {attribute: prefix}})
    if suffix:
        items.append({"suffix": {attribute: suffix}})
    return items


def filter_items(selector: Selector, producer: str) -> list[Item]:
    """The ``filters`` items (ANDed) selecting exactly the events of ``selector``.

    Raises:
        ManifestError: a glob Knative filters cannot express, or an unknown producer.
    """
    items: list[Item] = []
    if producer == "router":
        if selector.categories is not None:
            types = [ROUTER_TYPE_PREFIX + c for c in selector.categories]
            if len(types) == 1:
                items.append({"exact": {"type": types[0]}})
            else:
                items.append({"any": [{"exact": {"type": t}} for t in types]})
        if selector.name is not None:
            if selector.glob:
                items.extend(_glob_items("subject", selector.name))
            else:
                items.append({"exact": {"subject": selector.name}})
    elif producer == "vsphere-source":
        # The type names the class exactly: an exact class name needs no ``eventclass``.
        by_name = selector.name is not None and not selector.glob
        if selector.categories is not None and not (by_name and selector.categories == ("event",)):
            classes = list(selector.categories)
            if len(classes) == 1:
                items.append({"exact": {"eventclass": classes[0]}})
            else:
                items.append({"any": [{"exact": {"eventclass": c}} for c in classes]})
        if selector.name is not None:
            wrapped = VSPHERE_TYPE_PREFIX + selector.name + VSPHERE_TYPE_SUFFIX
            if selector.glob:
                items.extend(_glob_items("type", wrapped))
            else:
                items.append({"exact": {"type": wrapped}})
    else:
        raise ManifestError(f"unknown producer {producer!r}: use 'router' or 'vsphere-source'")
    return items


def _conjunction(items: list[Item]) -> Item:
    return items[0] if len(items) == 1 else {"all": items}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "x"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def trigger_names(service: str, labels: list[str]) -> list[str]:
    """Deterministic, unique DNS-1123 Trigger names, ``<service>-<label slug>``.

    A name over 63 characters, or one two labels would share (``"*Event"`` and ``"Event"``),
    is cut and ends in a hash of its label instead.
    """
    bases = [f"{service}-{_slug(label)}" for label in labels]
    names: list[str] = []
    for label, base in zip(labels, bases, strict=True):
        if len(base) <= _MAX_NAME and bases.count(base) == 1:
            names.append(base)
            continue
        tail = "-" + _short_hash(label)
        names.append(base[: _MAX_NAME - len(tail)].rstrip("-") + tail)
    return names


def _check_name(kind: str, name: str) -> None:
    if len(name) > _MAX_NAME or not _DNS_LABEL.match(name):
        raise ManifestError(
            f"{kind} name {name!r} is not a DNS-1123 label "
            "(lowercase letters, digits and '-', at most 63 characters)"
        )


def service_manifest(
    name: str,
    image: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Knative ``Service`` running the function image (health probes on the adapter's paths)."""
    container: dict[str, Any] = {
        "image": image,
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/health/readiness"}},
        "livenessProbe": {"httpGet": {"path": "/health/liveness"}},
    }
    if env:
        reserved = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"} & set(env)
        if reserved:
            raise ManifestError(f"environment variable(s) reserved by Knative: {sorted(reserved)}")
        container["env"] = [{"name": k, "value": str(env[k])} for k in sorted(env)]
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "veba-sdk"},
        },
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


def knative_manifests(
    router: Router,
    *,
    name: str,
    image: str,
    producer: str = "router",
    namespace: str = DEFAULT_NAMESPACE,
    broker: str = DEFAULT_BROKER,
    env: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The Service and its Triggers, in a stable order (Service first, Triggers by route).

    Args:
        router: the router whose routes decide the Triggers.
        name: the Service name (DNS-1123 label).
        image: the function's container image.
        producer: ``"router"`` (event router format) or ``"vsphere-source"``.
        namespace: where the Service and Triggers live.
        broker: the Broker the producer sends to.
        env: extra environment variables for the container.

    Raises:
        ManifestError: an invalid name, a producer or glob Knative cannot filter on.
    """
    _check_name("Service", name)
    selectors = selectors_for(router)
    docs: list[dict[str, Any]] = [service_manifest(name, image, namespace=namespace, env=env)]
    names = trigger_names(name, [s.label for s in selectors])
    for (selector, earlier), trigger_name in zip(disjoint(selectors), names, strict=True):
        spec: dict[str, Any] = {"broker": broker}
        items = filter_items(selector, producer)
        exclusions = [{"not": _conjunction(filter_items(e, producer))} for e in earlier]
        keys = [next(iter(item["exact"])) for item in items if "exact" in item]
        if not exclusions and len(keys) == len(items) and len(set(keys)) == len(keys):
            if items:
                spec["filter"] = {
                    "attributes": {k: v for item in items for k, v in item["exact"].items()}
                }
        else:
            spec["filters"] = items + exclusions
        spec["subscriber"] = {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name}
        }
        docs.append(
            {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Trigger",
                "metadata": {
                    "name": trigger_name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/managed-by": "veba-sdk"},
                    "annotations": {"veba-sdk/subscription": selector.label},
                },
                "spec": spec,
            }
        )
    return docs
