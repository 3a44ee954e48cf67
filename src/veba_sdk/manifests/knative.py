"""Knative ``Service`` and ``Trigger`` manifests from a router's routes.

One Trigger per subscription, on the broker the events arrive at, filtering the CloudEvent
attributes exactly as the producer sends them:

* event router (``producer="router"``): ``type`` is ``com.vmware.event.router/<category>`` and
  the event name is in ``subject``;
* VSphereSource (``producer="vsphere-source"``): ``type`` is ``com.vmware.vsphere.<name>.v0``
  and the category is in the ``eventclass`` extension.

Horizon routes (``"horizon.VLSI_USERLOGGEDIN_REST"``) get one Trigger per Horizon producer,
on the ``type`` each sends: ``com.vmware.event.router/horizon.<lower-cased type>.v0`` (the
event router's Horizon provider, v0.7+) and ``com.vmware.horizon.<lower-cased type>.v0`` (the
appliance's HorizonSource, v0.8+). Which one runs is not in the inputs (a v0.8 appliance's
RouterConfig is its webhook router's), and the two never share a type, so both are subscribed
and no event is delivered twice. Type routes (``on_type("com.example.*")``) filter on
``type`` as given.

Exact names use the legacy ``filter.attributes`` (every Knative release understands it); globs
and exclusions need the ``filters`` dialects (``exact``/``prefix``/``suffix``/``all``/``any``/
``not``; GA since Knative Eventing 1.15, behind the ``new-trigger-filters`` flag before).
Subscriptions that may overlap exclude each other with ``not``, so no event is delivered twice.
A catch-all route (``"*"`` or a default handler) gives one Trigger without a filter.

Every Trigger carries ``spec.delivery`` (:class:`Delivery`): by default what VEBA's own
RabbitMQ Broker sets, 2 retries with linear backoff, and a ``backoffDelay`` of ``PT1S``. The
Broker leaves the delay unset, so its dispatcher waits only 50 ms: both retries land within
0.15 s, inside the very outage (a function scaling from zero, a vROps restart) they are meant
to ride out. One second, linear, retries after 1 s and 2 s more: 3 s in all, about a Knative
cold start, still short enough that a failing event does not hold up the ones behind it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..wire import router_type, vsphere_type
from ._selectors import (
    CATEGORIES,
    HORIZON_PRODUCERS,
    ManifestError,
    Selector,
    disjoint,
    horizon_type,
    names_may_overlap,
    selectors_for,
)

if TYPE_CHECKING:
    from .._router import Router

__all__ = [
    "DEFAULT_BROKER",
    "DEFAULT_DELIVERY",
    "DEFAULT_NAMESPACE",
    "Delivery",
    "filter_items",
    "knative_manifests",
    "trigger_names",
]

DEFAULT_BROKER = "default"
DEFAULT_NAMESPACE = "vmware-functions"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MAX_NAME = 63

Item = dict[str, Any]

BACKOFF_POLICIES = ("linear", "exponential")
# ISO 8601 durations as Knative's webhook parses them (rickb777/date's period.Parse): years,
# months, weeks, days, then T and hours, minutes, seconds, each with an optional fraction.
_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?"
    r"(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?"
    r"(?:\d+(?:[.,]\d+)?S)?)?$"
)
# kn's sink prefixes (``kn trigger create --sink ksvc:name``) and what each refers to.
SINK_KINDS = {
    "ksvc": ("serving.knative.dev/v1", "Service"),
    "broker": ("eventing.knative.dev/v1", "Broker"),
    "channel": ("messaging.knative.dev/v1", "Channel"),
    "svc": ("v1", "Service"),
}


def sink_destination(sink: str) -> dict[str, Any]:
    """A Knative destination from ``kn``'s sink syntax: ``KIND:NAME[:NAMESPACE]`` or a URL.

    ``KIND`` is ``ksvc`` (Knative Service), ``broker``, ``channel`` or ``svc`` (Kubernetes
    Service); anything with ``://`` is an absolute URI.

    Raises:
        ManifestError: neither form.
    """
    if "://" in sink:
        scheme, _, rest = sink.partition("://")
        if scheme not in ("http", "https") or not rest.split("/")[0]:
            raise ManifestError(f"dead letter sink {sink!r}: a URL needs http(s)://host")
        return {"uri": sink}
    kind, _, rest = sink.partition(":")
    name, _, namespace = rest.partition(":")
    if kind not in SINK_KINDS or not name:
        raise ManifestError(
            f"dead letter sink {sink!r}: expected a URL or KIND:NAME[:NAMESPACE] with KIND one "
            f"of {', '.join(SINK_KINDS)} (e.g. ksvc:dead-letters)"
        )
    for label, value in (("name", name), ("namespace", namespace)):
        if value:
            _check_name(f"dead letter sink {label}", value)
    api_version, kind_name = SINK_KINDS[kind]
    ref = {"apiVersion": api_version, "kind": kind_name, "name": name}
    if namespace:
        ref["namespace"] = namespace
    return {"ref": ref}


@attrs.frozen(kw_only=True)
class Delivery:
    """A Trigger's ``spec.delivery``: how often and how patiently the Broker retries.

    Defaults are VEBA's Broker's (``retry: 2``, ``backoffPolicy: linear``) with a
    ``backoffDelay`` of one second (see the module docstring for why). ``dead_letter_sink``
    takes a URL or ``kn``'s ``KIND:NAME[:NAMESPACE]`` (``ksvc:dead-letters``).

    Raises:
        ManifestError: a negative retry count, an unknown policy, a delay that is not an ISO
            8601 duration, or a dead letter sink in neither form (when the spec is built).
    """

    retry: int = 2
    backoff_policy: str = "linear"
    backoff_delay: str = "PT1S"
    dead_letter_sink: str | None = None

    def spec(self) -> dict[str, Any]:
        """The ``delivery`` mapping, checked as Knative's webhook checks it."""
        if isinstance(self.retry, bool) or not isinstance(self.retry, int) or self.retry < 0:
            raise ManifestError(f"retry must be a whole number >= 0, not {self.retry!r}")
        if self.backoff_policy not in BACKOFF_POLICIES:
            raise ManifestError(
                f"backoff policy {self.backoff_policy!r}: use {' or '.join(BACKOFF_POLICIES)}"
            )
        if not _DURATION.match(self.backoff_delay):
            raise ManifestError(
                f"backoff delay {self.backoff_delay!r} is not an ISO 8601 duration "
                "(e.g. PT1S, PT0.5S, PT2M)"
            )
        spec: dict[str, Any] = {
            "retry": self.retry,
            "backoffPolicy": self.backoff_policy,
            "backoffDelay": self.backoff_delay,
        }
        if self.dead_letter_sink:
            spec["deadLetterSink"] = sink_destination(self.dead_letter_sink)
        return spec


DEFAULT_DELIVERY = Delivery()


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

    ``producer`` is who sends them: for vCenter selectors ``router`` or ``vsphere-source``, for
    Horizon selectors ``router`` or ``horizon-source``; type selectors ignore it.

    Raises:
        ManifestError: a glob Knative filters cannot express, or an unknown producer.
    """
    items: list[Item] = []
    if selector.kind == "type":
        assert selector.name is not None
        if selector.glob:
            return _glob_items("type", selector.name)
        return [{"exact": {"type": selector.name}}]
    if selector.kind == "horizon":
        wanted = horizon_type(selector, producer)
        return _glob_items("type", wanted) if selector.glob else [{"exact": {"type": wanted}}]
    if producer == "router":
        if selector.categories is not None:
            types = [router_type(c) for c in selector.categories]
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
        if selector.name is None and selector.categories == CATEGORIES:
            # Every vCenter event ("*"): the VSphereSource's types, whether or not its version
            # sends ``eventclass``.
            return _glob_items("type", vsphere_type("*"))
        # The type names the class exactly: an exact class name needs no ``eventclass``.
        by_name = selector.name is not None and not selector.glob
        if selector.categories is not None and not (by_name and selector.categories == ("event",)):
            classes = list(selector.categories)
            if len(classes) == 1:
                items.append({"exact": {"eventclass": classes[0]}})
            else:
                items.append({"any": [{"exact": {"eventclass": c}} for c in classes]})
        if selector.name is not None:
            wrapped = vsphere_type(selector.name)
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


def _variants(selector: Selector, producer: str) -> tuple[str, ...]:
    """The producers whose events a selector's Triggers filter: both Horizon producers for a
    Horizon selector, else the vCenter producer."""
    return HORIZON_PRODUCERS if selector.kind == "horizon" else (producer,)


def _rule_types(selector: Selector, variant: str) -> list[tuple[str, bool]]:
    """The CloudEvent types (or globs) one Trigger's events may carry."""
    if selector.kind == "horizon":
        return [(horizon_type(selector, variant), selector.glob)]
    return selector.ce_types()


def _rules_may_overlap(first: Selector, first_variant: str, other: Selector, variant: str) -> bool:
    """Whether two Triggers of selectors that may overlap may both select one event (a Horizon
    producer's Trigger never overlaps the other producer's)."""
    if first.kind == other.kind == "vcenter" or first.everything or other.everything:
        return True
    return any(
        names_may_overlap(a, a_glob, b, b_glob)
        for a, a_glob in _rule_types(first, first_variant)
        for b, b_glob in _rule_types(other, variant)
    )


def _rule_label(selector: Selector, variant: str) -> str:
    return f"{selector.label} {variant}" if selector.kind == "horizon" else selector.label


def _annotations(selector: Selector, variant: str) -> dict[str, str]:
    annotations = {"veba-sdk/subscription": selector.label}
    if selector.kind == "horizon":
        annotations["veba-sdk/horizon-producer"] = variant
    return annotations


def _oidc_audience(env: Mapping[str, str]) -> str | None:
    """The Triggers' ``subscriber.audience`` when the function checks Knative's OIDC tokens."""
    if str(env.get("VEBA_AUTH", "")).strip().lower() != "oidc":
        return None
    audience = env.get("VEBA_OIDC_AUDIENCE")
    if not audience:
        raise ManifestError("VEBA_AUTH=oidc needs VEBA_OIDC_AUDIENCE, the Triggers' audience")
    return str(audience)


def knative_manifests(
    router: Router,
    *,
    name: str,
    image: str,
    producer: str = "router",
    namespace: str = DEFAULT_NAMESPACE,
    broker: str = DEFAULT_BROKER,
    env: Mapping[str, str] | None = None,
    delivery: Delivery | None = DEFAULT_DELIVERY,
) -> list[dict[str, Any]]:
    """The Service and its Triggers, in a stable order (Service first, Triggers by route).

    Args:
        router: the router whose routes decide the Triggers.
        name: the Service name (DNS-1123 label).
        image: the function's container image.
        producer: ``"router"`` (event router format) or ``"vsphere-source"``.
        namespace: where the Service and Triggers live.
        broker: the Broker the producer sends to.
        env: extra environment variables for the container. With ``VEBA_AUTH=oidc`` (Knative
            sender identity, :class:`veba_sdk.auth.OIDCAuth`) each Trigger's
            ``subscriber.audience`` is ``VEBA_OIDC_AUDIENCE``, the audience the function checks.
        delivery: each Trigger's ``spec.delivery`` (``None``: none, the Broker's own applies).

    Raises:
        ManifestError: an invalid name or delivery, a producer or glob Knative cannot filter on.
    """
    _check_name("Service", name)
    delivery_spec = delivery.spec() if delivery is not None else None
    audience = _oidc_audience(env or {})
    selectors = selectors_for(router)
    docs: list[dict[str, Any]] = [service_manifest(name, image, namespace=namespace, env=env)]
    rules = [
        (selector, variant, earlier)
        for selector, earlier in disjoint(selectors)
        for variant in _variants(selector, producer)
    ]
    names = trigger_names(name, [_rule_label(s, v) for s, v, _ in rules])
    for (selector, variant, earlier), trigger_name in zip(rules, names, strict=True):
        spec: dict[str, Any] = {"broker": broker}
        items = filter_items(selector, variant)
        exclusions = [
            {"not": _conjunction(filter_items(other, other_variant))}
            for other in earlier
            for other_variant in _variants(other, producer)
            if _rules_may_overlap(selector, variant, other, other_variant)
        ]
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
        if audience is not None:  # the dispatcher's tokens carry it as aud (sender identity)
            spec["subscriber"]["audience"] = audience
        if delivery_spec is not None:
            spec["delivery"] = dict(delivery_spec)
        docs.append(
            {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Trigger",
                "metadata": {
                    "name": trigger_name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/managed-by": "veba-sdk"},
                    "annotations": _annotations(selector, variant),
                },
                "spec": spec,
            }
        )
    return docs
