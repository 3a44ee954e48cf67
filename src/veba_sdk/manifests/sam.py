"""An AWS SAM template from a router's routes.

VEBA's EventBridge processor (the event router) forwards an event only when its subject is
listed in the ``detail.subject`` of the pattern of the RouterConfig's ``ruleARN`` rule, and
then calls ``PutEvents`` with one entry: ``EventBusName`` = the RouterConfig's ``eventBus``,
``Source`` = the CloudEvent ``source`` (the vCenter URL), ``DetailType`` = the CloudEvent
``subject`` (the class name, or the EventEx/ExtendedEvent type id) and ``Detail`` = the whole
structured CloudEvent. The function's ``EventBridgeRule`` sits on that bus (the template's
``EventBusName`` Parameter) and selects exactly the subscribed events: names in
``detail-type``, type-id globs as ``prefix``/``suffix``/``wildcard`` matchers, whole
categories by ``detail.type``, alternatives under ``$or``.

Type routes (``on_type("com.example.*")``) select ``detail.type``, the CloudEvent type; a
webhook event gets through only with a subject, which the router puts in ``DetailType`` and
EventBridge requires. Horizon routes are left out (:func:`~._selectors.unsubscribed_routes`):
the router's Horizon events have no subject, so EventBridge refuses their entries.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..wire import router_type
from ._selectors import ManifestError, Selector, selectors_for, subscribable

if TYPE_CHECKING:
    from .._router import Router

__all__ = [
    "DEFAULT_EVENT_BUS",
    "event_pattern",
    "rule_arn_subjects",
    "rule_arn_types",
    "sam_template",
]

#: The bus when no RouterConfig names one: the ``eventBus`` of VEBA's example configs.
DEFAULT_EVENT_BUS = "default"


def _name_matcher(selector: Selector) -> Any:
    name = selector.name
    assert name is not None
    if not selector.glob:
        return name
    if "?" in name or "[" in name:
        raise ManifestError(
            f"glob {name!r} uses '?' or '[...]', which EventBridge patterns cannot express"
        )
    if name.count("*") == 1:
        prefix, suffix = name.split("*")
        if not suffix:
            return {"prefix": prefix}
        if not prefix:
            return {"suffix": suffix}
    return {"wildcard": name}


def _sorted_matchers(matchers: list[Any]) -> list[Any]:
    names = sorted({m for m in matchers if isinstance(m, str)})
    return names + sorted((m for m in matchers if not isinstance(m, str)), key=json.dumps)


def event_pattern(router: Router) -> dict[str, Any]:
    """The EventBridge event pattern selecting exactly the router's events.

    Raises:
        ManifestError: a glob EventBridge cannot express, or only routes it cannot deliver.
    """
    selectors = subscribable(router, "lambda")
    if any(s.everything for s in selectors):
        return {"detail-type": [{"exists": True}]}
    plain: list[Any] = []
    types: list[Any] = []
    branches: list[dict[str, Any]] = []
    for selector in selectors:
        if selector.kind == "type":
            types.append(_name_matcher(selector))
            continue
        # Class events arrive as category "event" with their class name: the name says it all.
        only_name = selector.categories is None or selector.categories == ("event",)
        if only_name and selector.name is not None:
            plain.append(_name_matcher(selector))
            continue
        branch: dict[str, Any] = {}
        if selector.name is not None:
            branch["detail-type"] = [_name_matcher(selector)]
        if selector.categories is not None:
            branch["detail"] = {"type": [router_type(c) for c in selector.categories]}
        branches.append(branch)
    if types:
        branches.append({"detail": {"type": _sorted_matchers(types)}})
    if plain:
        branches.insert(0, {"detail-type": _sorted_matchers(plain)})
    if len(branches) == 1:
        return branches[0]
    return {"$or": branches}


def rule_arn_subjects(router: Router) -> tuple[list[str], list[str]]:
    """What the RouterConfig's ``ruleARN`` rule must list in ``detail.subject`` for these routes.

    The event router forwards an event only when its subject is one of those strings exactly,
    so ``(names, patterns)``: the exact names to list, and the routes (globs, whole categories,
    catch-alls) whose events must each be listed by their full name. Type routes are in neither
    (:func:`rule_arn_types`).
    """
    names: set[str] = set()
    patterns: list[str] = []
    for selector in subscribable(router, "lambda"):
        if selector.kind == "type":
            continue
        if selector.name is not None and not selector.glob:
            names.add(selector.name)
        else:
            patterns.append(selector.label)
    return sorted(names), patterns


def rule_arn_types(router: Router) -> list[str]:
    """The CloudEvent types (or globs) of the type routes, which the ``ruleARN`` rule must let
    through in ``detail.type`` (the router matches the rule against ``{"detail": event}``)."""
    return [s.label for s in selectors_for(router) if s.kind == "type"]


def _logical_id(name: str) -> str:
    parts = [p for p in "".join(c if c.isalnum() else " " for c in name).split() if p]
    logical = "".join(p[:1].upper() + p[1:] for p in parts) or "Function"
    return logical if logical[0].isalpha() else "Fn" + logical


def sam_template(
    router: Router,
    *,
    name: str,
    handler: str = "main.lambda_handler",
    code_uri: str = ".",
    runtime: str = "python3.11",
    event_bus: str = DEFAULT_EVENT_BUS,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The SAM template: one ``AWS::Serverless::Function`` with an ``EventBridgeRule`` event.

    The rule's bus is the template Parameter ``EventBusName``, whose default is
    ``event_bus`` (the RouterConfig's ``eventBus``); ``sam deploy --parameter-overrides
    EventBusName=...`` (or ``--guided``, which asks) changes it without regenerating.

    Raises:
        ManifestError: the routes cannot be expressed as an EventBridge pattern, or no bus.
    """
    if not event_bus:
        raise ManifestError("the EventBridge bus name is empty")
    properties: dict[str, Any] = {
        "Pattern": event_pattern(router),
        "EventBusName": {"Ref": "EventBusName"},
    }
    function: dict[str, Any] = {
        "CodeUri": code_uri,
        "Handler": handler,
        "Runtime": runtime,
        "Timeout": 30,
        "Events": {"VebaEvents": {"Type": "EventBridgeRule", "Properties": properties}},
    }
    if environment:
        function["Environment"] = {
            "Variables": {k: str(environment[k]) for k in sorted(environment)}
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"{name}: a VEBA function (generated by veba-sdk)",
        "Parameters": {
            "EventBusName": {
                "Type": "String",
                "Default": event_bus,
                "MinLength": 1,
                "Description": (
                    "The bus VEBA's event router puts events on: its RouterConfig's "
                    "eventProcessor.awsEventBridge.eventBus, the bus its ruleARN rule is on"
                ),
            }
        },
        "Resources": {
            _logical_id(name): {"Type": "AWS::Serverless::Function", "Properties": function}
        },
    }
