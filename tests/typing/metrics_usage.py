"""veba_sdk.metrics as users write it, checked by mypy --strict
(tests/metrics/test_metrics_api.py)."""

from __future__ import annotations

import io

from prometheus_client import CollectorRegistry

from veba_sdk import Router
from veba_sdk.adapters import aws_lambda, from_router_config, knative, openfaas
from veba_sdk.metrics import (
    DEFAULT_BUCKETS,
    DEFAULT_NAMESPACE,
    NO_HANDLER,
    OTHER,
    OUTCOMES,
    EMFMetrics,
    PrometheusMetrics,
)

router = Router()

app: knative.ASGIApp = knative.asgi(router, metrics=True)
wsgi_app: knative.WSGIApp = knative.wsgi(router, metrics=False)
function: knative.FuncFunction = knative.new(router, metrics=True)
handle: openfaas.PythonHttpHandle = openfaas.handler(router, metrics=True)
lambda_handler: aws_lambda.LambdaHandler = aws_lambda.handler(router, metrics=True)

own = PrometheusMetrics(CollectorRegistry(), namespace="mirror", buckets=(0.01, 0.1, 1.0))
app = knative.asgi(router, metrics=own)
body, content_type = own.exposition("application/openmetrics-text")
received: dict[tuple[str, str], int] = own.received()
outcomes: dict[tuple[str, str], int] = own.outcomes()
in_flight: int = own.in_flight()
process_wide: PrometheusMetrics = PrometheusMetrics.default()
own.observe(Router())

emf = EMFMetrics("Ops/VEBA", service="mirror", stream=io.StringIO())
lambda_handler = aws_lambda.handler(router, metrics=emf)
lines: str = emf.namespace + emf.service + DEFAULT_NAMESPACE
picked = from_router_config(router, "router-config.yaml", metrics=True)

bounds: tuple[float, ...] = DEFAULT_BUCKETS
labels: tuple[str, ...] = (OTHER, NO_HANDLER, *OUTCOMES)
