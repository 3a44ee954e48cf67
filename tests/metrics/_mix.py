"""A known mix of deliveries, and the figures Prometheus must show after it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from veba_sdk.testing import make_event, send

#: (event name, vCenter key, producer, status class); the fourth is a redelivery of the first.
MIX = (
    ("VmPoweredOnEvent", 101, "router", 2),
    ("VmPoweredOnEvent", 102, "router", 2),
    ("VmPoweredOnEvent", 103, "vsphere-source", 2),
    ("VmPoweredOnEvent", 101, "router", 2),
    ("VmPoweredOffEvent", 201, "router", 5),
    ("VmPoweredOffEvent", 202, "router", 5),
    ("UserLoginSessionEvent", 301, "router", 2),
    ("UserLoginSessionEvent", 302, "vsphere-source", 2),
)
OUTCOMES = {
    ("powered_on", "ok"): 3.0,
    ("audit", "ok"): 3.0,
    ("powered_on", "duplicate"): 1.0,
    ("audit", "duplicate"): 1.0,
    ("powered_off", "failed"): 2.0,
    ("(none)", "no_match"): 3.0,
}
DURATION_COUNTS = {"powered_on": 3.0, "audit": 3.0, "powered_off": 2.0}
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def producer_for(producer: str, platform: str) -> str:
    """VEBA's OpenFaaS processor sends the event router's shape only."""
    return "router" if platform == "openfaas" else producer


def deliver(url: str, platform: str = "knative") -> None:
    """Send the mix and one foreign CloudEvent to ``url``, checking each status."""
    events: dict[int, Any] = {}  # a redelivery sends the very same event
    with httpx.Client(timeout=10.0) as client:
        for name, key, producer, status in MIX:
            event = events.setdefault(key, make_event(name, key=key))
            response = send(
                url,
                event,
                producer=producer_for(producer, platform),
                platform=platform,
                client=client,
            )
            assert response.status_code // 100 == status, (name, key, response.text)
        foreign = client.post(
            url,
            content=b'{"hello": "world"}',
            headers={
                "ce-specversion": "1.0",
                "ce-id": "x-1",
                "ce-source": "/webhook",
                "ce-type": "com.example.webhook.fired",
                "content-type": "application/json",
            },
        )
        assert foreign.status_code // 100 == 2, foreign.text


def scrape(url: str) -> Samples:
    """``GET url``, parsed by prometheus-client's own parser: values by name and labels."""
    response = httpx.get(url, timeout=10.0)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def by(samples: Samples, name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """One metric's values keyed by the given labels' values."""
    return {
        tuple(dict(labels)[key] for key in keys): value for labels, value in samples[name].items()
    }


def check(samples: Samples, platform: str = "knative") -> None:
    """The figures after :func:`deliver`: every count as sent, nothing in flight."""
    received: Counter[tuple[str, str]] = Counter()
    for name, _key, producer, _status in MIX:
        received[(name, producer_for(producer, platform))] += 1
    received[("other", "cloudevent")] += 1
    assert by(samples, "veba_events_received_total", "event", "producer") == {
        key: float(count) for key, count in received.items()
    }
    outcomes = by(samples, "veba_handler_outcomes_total", "handler", "outcome")
    assert outcomes == OUTCOMES, outcomes
    counts = by(samples, "veba_handler_duration_seconds_count", "handler")
    assert counts == {(name,): value for name, value in DURATION_COUNTS.items()}
    sums = by(samples, "veba_handler_duration_seconds_sum", "handler")
    assert all(value > 0 for value in sums.values()), sums
    assert sums[("audit",)] >= 3 * 0.002  # it sleeps 2 ms each time
    infinite = by(samples, "veba_handler_duration_seconds_bucket", "handler", "le")
    assert infinite[("powered_off", "+Inf")] == 2.0
    assert samples["veba_events_in_flight"] == {(): 0.0}
