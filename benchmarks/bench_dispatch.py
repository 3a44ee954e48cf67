"""HTTP decoding and routing speed, side by side in one run.

* ``decode_http`` of a binary-mode VSphereSource request (typed model included) against
  cloudevents 1.x ``from_http`` of the same request: target <= 0.4x.
* choosing the handlers for one event among 500 routes (exact, class, glob, type id):
  target <= 2 us median for an exact name.
* the whole in-process path, binary HTTP request to a sync handler being called:
  target <= 1.2x ``decode_http`` alone.

Run: ``python benchmarks/bench_dispatch.py`` (prints Markdown; ``--write`` updates
``docs/performance.md``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _sample import FIXTURE, HEADERS
from _timing import compare, machine, table
from cloudevents.http import from_http

from veba_sdk import Router
from veba_sdk.events import decode_http, event_class_names


def request() -> tuple[dict[str, str], list[tuple[bytes, bytes]], bytes]:
    """A VSphereSource binary-mode request: as a dict and as ASGI raw header pairs."""
    body = json.dumps(json.loads(FIXTURE.read_text())).encode()
    headers = dict(HEADERS)
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return headers, raw, body


def router_with_500_routes() -> Router:
    """500 routes: exact names, classes, globs and type ids, like a big multi-module app."""
    router = Router()
    names = [n for n in event_class_names() if n.endswith("Event")]
    handler_calls = [0]

    def handler(event: object) -> None:
        handler_calls[0] += 1

    for index in range(500):
        name = names[index % len(names)]
        if index % 10 == 0:
            router.on(f"{name[:3]}*Event")(handler)
        elif index % 10 == 1:
            router.on(f"class:{name}")(handler)
        elif index % 10 == 2 or index >= len(names):
            router.on(f"com.vmware.vc.example{index}.*", uncatalogued=True)(handler)
        else:
            router.on(name)(handler)
    assert len(router.routes) == 500
    return router


def run() -> str:
    headers, raw, body = request()
    router = router_with_500_routes()
    envelope = decode_http(raw, body)
    key = (envelope.name, envelope.category, type(envelope.event).__name__)

    one_route = Router()
    calls = [0]

    @one_route.on("EnteredMaintenanceModeEvent")
    def read_host(event: object) -> None:
        calls[0] += 1

    big = compare(
        {
            "cloudevents from_http": lambda: from_http(headers, body),
            "decode_http (dict headers)": lambda: decode_http(headers, body),
            "decode_http (ASGI headers)": lambda: decode_http(raw, body),
            "decode + dispatch to a sync handler": lambda: one_route.dispatch(
                decode_http(raw, body)
            ),
            "decode + dispatch, 500 routes": lambda: router.dispatch(decode_http(raw, body)),
        },
        number=200,
        rounds=101,  # many short interleaved rounds: load spikes hit every contender alike
    )
    small = compare(
        {"choose handlers, 500 routes": lambda: router.handlers_for(*key)}, number=20000
    )
    base = big["cloudevents from_http"]
    decode = big["decode_http (ASGI headers)"]
    rows = [
        (name, f"{ns / 1000:.2f}", f"{ns / base:.2f}x from_http, {ns / decode:.2f}x decode_http")
        for name, ns in big.items()
    ]
    rows.append(
        ("choose handlers, 500 routes", f"{small['choose handlers, 500 routes'] / 1000:.3f}", "")
    )
    verdict = [
        f"- decode_http / from_http: **{decode / base:.2f}x** (target <= 0.40x)",
        "- choose handlers among 500 routes: "
        f"**{small['choose handlers, 500 routes'] / 1000:.3f} us** (target <= 2 us)",
        "- decode + dispatch to a sync handler / decode_http: "
        f"**{big['decode + dispatch to a sync handler'] / decode:.2f}x** (target <= 1.2x)",
    ]
    return "\n".join(
        [
            "## HTTP decoding and routing",
            "",
            f"Machine: {machine()}. Command: `python benchmarks/bench_dispatch.py`.",
            "Binary-mode VSphereSource `EnteredMaintenanceModeEvent` request, typed model",
            "included; medians of 101 interleaved rounds.",
            "",
            table(rows, ("path", "median us", "ratio")),
            "",
            *verdict,
            "",
        ]
    )


if __name__ == "__main__":
    output = run()
    print(output)
    if "--write" in sys.argv:
        sys.path.insert(0, str(Path(__file__).parent))
        from _report import write_section

        write_section("HTTP decoding and routing", output)
