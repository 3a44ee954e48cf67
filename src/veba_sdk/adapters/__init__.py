"""Platform adapters: the same router served on Knative, OpenFaaS, AWS Lambda and GCF.

Each platform has its own module, imported only when asked for, so a Lambda cold start never
pulls in an HTTP server::

    from veba_sdk.adapters import knative      # asgi(), wsgi(), new()
    from veba_sdk.adapters import openfaas     # handler(), classic_handler()
    from veba_sdk.adapters import aws_lambda   # handler()
    from veba_sdk.adapters import gcf          # function()

:func:`from_router_config` picks one from a VEBA RouterConfig.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError

if TYPE_CHECKING:  # the platform modules load only when asked for
    from .._router import Router
    from ..auth import Authenticator
    from ..config import RouterConfig
    from .aws_lambda import LambdaHandler
    from .knative import ASGIApp
    from .openfaas import PythonHttpHandle

_SUBMODULES = frozenset({"knative", "openfaas", "aws_lambda", "gcf"})


def __getattr__(name: str) -> ModuleType:
    """Import a platform module on first access (``veba_sdk.adapters.knative``)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def from_router_config(
    router: Router,
    path_or_config: RouterConfig | str | bytes | os.PathLike[str] | Mapping[str, Any],
    *,
    auth: Authenticator | None = None,
    metrics: Any = False,
) -> ASGIApp | PythonHttpHandle | LambdaHandler:
    """The adapter the VEBA RouterConfig's ``eventProcessor.type`` calls for, serving ``router``.

    ===================== ===============================================================
    ``eventProcessor``    adapter returned
    ===================== ===============================================================
    ``knative``           :func:`veba_sdk.adapters.knative.asgi` (an ASGI app) replying in
                          the config's ``knative.encoding`` (``binary`` or ``structured``)
    ``openfaas``          :func:`veba_sdk.adapters.openfaas.handler` (``handle(event, context)``)
    ``aws_event_bridge``  :func:`veba_sdk.adapters.aws_lambda.handler` (``lambda_handler``)
    ===================== ===============================================================

    Only the chosen platform's module is imported.

    Args:
        router: the :class:`veba_sdk.Router` to serve.
        path_or_config: a :class:`veba_sdk.config.RouterConfig`, or anything
            :func:`veba_sdk.config.load_router_config` reads (a path, YAML/JSON text, a mapping).
        auth: the sender check (:mod:`veba_sdk.auth`) handed to the adapter; ``None`` reads
            ``VEBA_AUTH`` (Lambda refuses any: IAM authenticates its invocations).
        metrics: handed to the adapter (:mod:`veba_sdk.metrics`): ``GET /metrics`` on Knative
            and OpenFaaS, Embedded Metric Format lines on Lambda (``True``, or the platform's
            own metrics object, which is why it is not typed narrower).

    Returns:
        the ASGI app (Knative), ``handle(event, context)`` (OpenFaaS) or ``lambda_handler``.

    Raises:
        ConfigError: the config is invalid, or names a processor no adapter serves.
    """
    from ..config import RouterConfig, load_router_config

    config = (
        path_or_config
        if isinstance(path_or_config, RouterConfig)
        else load_router_config(path_or_config)
    )
    processor = config.event_processor
    kind = processor.type
    if kind == "knative":
        from . import knative

        encoding = processor.knative.encoding if processor.knative is not None else "binary"
        return knative.asgi(router, reply_mode=encoding, auth=auth, metrics=metrics)
    if kind == "openfaas":
        from . import openfaas

        return openfaas.handler(router, auth=auth, metrics=metrics)
    if kind == "aws_event_bridge":
        from . import aws_lambda

        return aws_lambda.handler(router, auth=auth, metrics=metrics)
    raise ConfigError(f"eventProcessor.type: no adapter serves {kind!r}")
