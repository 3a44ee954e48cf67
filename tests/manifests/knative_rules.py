"""Knative semantics the CRD schemas cannot check: Trigger filter evaluation and webhook rules.

* :func:`trigger_matches` evaluates a Trigger's filter against CloudEvent attributes the way
  the broker does: legacy ``filter.attributes`` (exact, ``""`` matches any value, all keys
  ANDed) and the ``filters`` dialects (``exact``/``prefix``/``suffix`` on one attribute each,
  ``all``/``any``/``not``, and CESQL's ``<attr> LIKE '<pattern>'``); ``filters`` wins when
  both are set. A missing attribute never matches a dialect.
* :func:`webhook_errors` lists what the eventing and serving webhooks would reject (the rules
  in tests/specs/NOTES.md, from trigger_validation.go and k8s_validation.go, and
  DeliverySpec.Validate: retry >= 0, backoffPolicy linear|exponential, backoffDelay an ISO
  8601 duration, deadLetterSink a ref with apiVersion/kind/name or an absolute URI).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9]*$")
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")
_LIKE = re.compile(r"^\s*([a-z][a-z0-9]*)\s+LIKE\s+'((?:[^'\\]|\\.)*)'\s*$")


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.DOTALL)


def _item_matches(item: Mapping[str, Any], attributes: Mapping[str, str]) -> bool:
    dialects = [k for k in item if k in DIALECTS]
    assert len(dialects) == 1, f"one dialect per filters item, got {list(item)}"
    dialect = dialects[0]
    value = item[dialect]
    if dialect in ("exact", "prefix", "suffix"):
        ((key, wanted),) = value.items()
        actual = attributes.get(key)
        if actual is None:
            return False
        if dialect == "exact":
            return bool(actual == wanted)
        if dialect == "prefix":
            return bool(actual.startswith(wanted))
        return bool(actual.endswith(wanted))
    if dialect == "all":
        return all(_item_matches(sub, attributes) for sub in value)
    if dialect == "any":
        return any(_item_matches(sub, attributes) for sub in value)
    if dialect == "not":
        return not _item_matches(value, attributes)
    match = _LIKE.match(value)
    assert match, f"the evaluator knows only '<attr> LIKE <pattern>' CESQL, not {value!r}"
    actual = attributes.get(match.group(1))
    return actual is not None and _like_regex(match.group(2)).fullmatch(actual) is not None


def trigger_matches(trigger: Mapping[str, Any], attributes: Mapping[str, str]) -> bool:
    """Whether the broker would deliver an event with these attributes to this Trigger."""
    spec = trigger["spec"]
    if spec.get("filters"):
        return all(_item_matches(item, attributes) for item in spec["filters"])
    wanted = (spec.get("filter") or {}).get("attributes") or {}
    return all(v == "" or attributes.get(k) == v for k, v in wanted.items())


# -- webhook rules ---------------------------------------------------------------------------

_ISO_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?!$)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)
_DELIVERY_KEYS = {"retry", "backoffPolicy", "backoffDelay", "deadLetterSink", "timeout", "format"}


def _delivery_errors(delivery: Any) -> list[str]:
    if not isinstance(delivery, Mapping):
        return ["spec.delivery must be an object"]
    errors = [f"unknown field {k!r}: spec.delivery" for k in delivery if k not in _DELIVERY_KEYS]
    retry = delivery.get("retry")
    if retry is not None and (not isinstance(retry, int) or retry < 0):
        errors.append(f"invalid value: {retry}: spec.delivery.retry")
    policy = delivery.get("backoffPolicy")
    if policy is not None and policy not in ("linear", "exponential"):
        errors.append(f"invalid value: {policy}: spec.delivery.backoffPolicy")
    delay = delivery.get("backoffDelay")
    if delay is not None and not (isinstance(delay, str) and _ISO_DURATION.match(delay)):
        errors.append(f"invalid value: {delay}: spec.delivery.backoffDelay")
    sink = delivery.get("deadLetterSink")
    if sink is not None:
        ref, uri = (sink or {}).get("ref"), (sink or {}).get("uri")
        if not ref and not uri:
            errors.append("expected at least one, got none: deadLetterSink.ref, deadLetterSink.uri")
        if ref and not all(ref.get(k) for k in ("apiVersion", "kind", "name")):
            errors.append("spec.delivery.deadLetterSink.ref needs apiVersion, kind and name")
        if uri and not ref and "://" not in uri:
            errors.append("Relative URI is not allowed when Ref is absent: deadLetterSink.uri")
    return errors


_TRIGGER_SPEC_KEYS = {"broker", "brokerRef", "filter", "filters", "subscriber", "delivery"}
_RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
_RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091, 8008}
_RESERVED_MOUNTS = {"/", "/dev", "/dev/log"}


def _check_key(key: str, where: str, errors: list[str]) -> None:
    if not ATTRIBUTE_KEY.match(key):
        errors.append(f"invalid key name {key!r}: {where}")


def _check_item(item: Any, where: str, top: bool, errors: list[str]) -> None:
    if not isinstance(item, Mapping):
        errors.append(f"{where}: a filters item must be an object")
        return
    unknown = [k for k in item if k not in DIALECTS]
    if unknown and not top:  # the CRD prunes unknown keys only at the top level of an item
        errors.append(f"unknown field {unknown[0]!r}: {where}")
    dialects = [k for k in item if k in DIALECTS]
    if len(dialects) > 1:
        errors.append(f"multiple dialects found, filters can have only one dialect set: {where}")
    for dialect in dialects:
        value = item[dialect]
        if dialect in ("exact", "prefix", "suffix"):
            if not isinstance(value, Mapping) or len(value) != 1:
                errors.append(f"{where}.{dialect}: expected exactly one key-value")
                continue
            for key, text in value.items():
                _check_key(key, f"{where}.{dialect}[{key}]", errors)
                if not isinstance(text, str) or (dialect != "exact" and not text):
                    errors.append(f"{where}.{dialect}[{key}]: needs a non-empty string")
        elif dialect in ("all", "any"):
            if not isinstance(value, list) or not value:
                errors.append(f"{where}.{dialect}: needs a non-empty list")
                continue
            for index, sub in enumerate(value):
                _check_item(sub, f"{where}.{dialect}[{index}]", False, errors)
        elif dialect == "not":
            _check_item(value, f"{where}.not", False, errors)
        elif not isinstance(value, str) or not value.strip() or value.rstrip()[-1] in "=<>":
            errors.append(f"invalid value: {value}: {where}.cesql")


def _trigger_errors(doc: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    spec = doc.get("spec") or {}
    for key in spec:
        if key not in _TRIGGER_SPEC_KEYS:
            errors.append(f"unknown field {key!r}")
    has_broker, has_ref = "broker" in spec, "brokerRef" in spec
    if has_broker and has_ref:
        errors.append("expected exactly one, got both: spec.broker, spec.brokerRef")
    elif not has_broker and not has_ref:
        errors.append("missing field(s): spec.broker")
    if has_ref and (spec["brokerRef"] or {}).get("namespace"):
        errors.append("must not set the field(s): spec.brokerRef.namespace")
    subscriber = spec.get("subscriber") or {}
    ref, uri = subscriber.get("ref"), subscriber.get("uri")
    if not ref and not uri:
        errors.append("expected at least one, got none: spec.subscriber.ref, spec.subscriber.uri")
    elif uri and "://" in uri and ref:
        errors.append("Absolute URI is not allowed when Ref or [apiVersion, kind, name] is present")
    elif uri and "://" not in uri and not ref:
        errors.append("Relative URI is not allowed when Ref and [apiVersion, kind, name] is absent")
    if ref and not all(ref.get(k) for k in ("apiVersion", "kind", "name")):
        errors.append("spec.subscriber.ref needs apiVersion, kind and name")
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    for key in attributes:
        _check_key(key, f"spec.filter.attributes[{key}]", errors)
    filters = spec.get("filters")
    if filters is not None:
        if not isinstance(filters, list):
            errors.append("spec.filters must be a list")
        else:
            for index, item in enumerate(filters):
                _check_item(item, f"spec.filters[{index}]", True, errors)
    if "delivery" in spec:
        errors.extend(_delivery_errors(spec["delivery"]))
    annotations = (doc.get("metadata") or {}).get("annotations") or {}
    if "eventing.knative.dev/injection" in annotations and spec.get("broker") != "default":
        errors.append("The provided injection annotation is only used for default broker")
    if "knative.dev/dependency" in annotations:
        try:
            dependency = json.loads(annotations["knative.dev/dependency"])
        except ValueError:
            dependency = None
        if not isinstance(dependency, dict) or not dependency.get("kind"):
            errors.append("The provided annotation was not a corev1.ObjectReference")
    return errors


def _service_errors(doc: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    template = (doc.get("spec") or {}).get("template") or {}
    spec = template.get("spec") or {}
    timeout = spec.get("timeoutSeconds")
    if timeout is not None and not 0 <= timeout <= 600:
        errors.append("timeoutSeconds must be at most max-revision-timeout-seconds (600)")
    concurrency = spec.get("containerConcurrency")
    if concurrency is not None and not 0 <= concurrency <= 1000:
        errors.append("containerConcurrency must be within 0..1000")
    for index, container in enumerate(spec.get("containers") or []):
        where = f"spec.template.spec.containers[{index}]"
        if not container.get("image"):
            errors.append(f"{where}.image is required")
        if container.get("name") == "queue-proxy":
            errors.append(f"{where}.name 'queue-proxy' is reserved")
        for env in container.get("env") or []:
            if env.get("name") in _RESERVED_ENV:
                errors.append(f"{where}.env: {env['name']} is a reserved environment variable")
        for port in container.get("ports") or []:
            if port.get("containerPort") in _RESERVED_PORTS:
                errors.append(f"{where}.ports: {port['containerPort']} is a reserved port")
            if port.get("name", "") not in ("", "h2c", "http1"):
                errors.append(f"{where}.ports: name must be h2c, http1 or empty")
        for mount in container.get("volumeMounts") or []:
            if mount.get("mountPath") in _RESERVED_MOUNTS:
                errors.append(f"{where}.volumeMounts: {mount['mountPath']} is reserved")
    return errors


def webhook_errors(doc: Mapping[str, Any]) -> list[str]:
    """What the Knative webhooks would reject in a Trigger or Service (empty: accepted)."""
    kind = doc.get("kind")
    if kind == "Trigger":
        return _trigger_errors(doc)
    if kind == "Service":
        return _service_errors(doc)
    return [f"unexpected kind {kind!r}"]
