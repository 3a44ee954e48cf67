"""Benchmark: parse_event of the EnteredMaintenanceModeEvent fixture against json.loads.

Run from the repository root::

    python benchmarks/bench_parse.py            # all comparisons
    python benchmarks/bench_parse.py --quick    # fewer rounds

Every comparison is measured side by side in one run: the contenders are interleaved round by
round (many short rounds), and the median of the per-round times per call is reported. Compared:

1. ``parse_event(bytes)`` with the standard library's json vs ``json.loads(bytes)``
   (target <= 1.6x);
2. ``parse_event(bytes)`` with orjson (the optional accelerator) vs ``json.loads(bytes)``
   (target <= 1.0x);
3. building the event models as frozen vs mutable attrs classes (same fields, same values),
   and our models (attrs-compatible classes with a generated ``__init__``, see _models.py);
4. our generated structuring code vs cattrs' generic structuring of the same attrs classes
   (when cattrs is installed).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from _sample import FIXTURE  # noqa: E402

from veba_sdk.events import _codec, _converters, parse_event  # noqa: E402

NAME = "EnteredMaintenanceModeEvent"


def per_call(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def side_by_side(
    contenders: dict[str, Callable[[], Any]], rounds: int, number: int
) -> dict[str, float]:
    """Median seconds per call of each contender, interleaved round by round."""
    samples: dict[str, list[float]] = {k: [] for k in contenders}
    for fn in contenders.values():
        per_call(fn, number)  # warm up
    for _ in range(rounds):
        for key, fn in contenders.items():
            samples[key].append(per_call(fn, number))
    return {k: statistics.median(v) for k, v in samples.items()}


def report(title: str, results: dict[str, float], base: str) -> None:
    print(f"\n{title}")
    for key, seconds in results.items():
        ratio = seconds / results[base]
        print(f"  {key:<44} {seconds * 1e6:8.2f} us   {ratio:5.2f}x")


def bench_json(body: bytes, rounds: int, number: int) -> None:
    decoder = json.JSONDecoder()
    text_of = bytes.decode
    contenders: dict[str, Callable[[], Any]] = {
        "json.loads (stdlib)": lambda: json.loads(body),
        # What json.loads runs underneath: for reading how much of parse_event is our own work.
        "json C scanner alone (raw_decode)": lambda: decoder.raw_decode(text_of(body)),
    }
    _codec.select_json("json")
    stdlib_loads, stdlib_object_loads = _codec._loads, _codec._object_loads

    def stdlib_parse() -> Any:
        _codec._loads, _codec._object_loads = stdlib_loads, stdlib_object_loads
        return parse_event(body, name=NAME)

    contenders["parse_event, stdlib json"] = stdlib_parse
    try:
        import orjson

        def orjson_parse() -> Any:
            _codec._loads = _codec._object_loads = orjson.loads
            return parse_event(body, name=NAME)

        contenders["orjson.loads"] = lambda: orjson.loads(body)
        contenders["parse_event, orjson"] = orjson_parse
    except ImportError:
        print("orjson is not installed: the accelerated comparison is skipped")
    results = side_by_side(contenders, rounds, number)
    _codec.select_json(None)
    report(
        "parse_event(bytes) vs json.loads(bytes), median per call", results, "json.loads (stdlib)"
    )


def bench_frozen(body: bytes, rounds: int, number: int) -> None:
    import attrs

    from veba_sdk.events._models import all_fields, get_class

    names = [f[0] for f in all_fields(NAME)] + ["extra", "class_name"]
    these = {n: attrs.field(default=None) for n in names}
    frozen = attrs.make_class("FrozenEvent", dict(these), frozen=True, kw_only=True, slots=True)
    mutable = attrs.make_class("MutableEvent", dict(these), kw_only=True, slots=True)
    event = parse_event(body, name=NAME)
    values = {n: getattr(event, n) for n in names}
    model = get_class(NAME)
    results = side_by_side(
        {
            "mutable attrs class (attrs.define)": lambda: mutable(**values),
            "frozen attrs class (attrs.frozen)": lambda: frozen(**values),
            "veba_sdk model (generated __init__)": lambda: model(**values),
        },
        rounds,
        number,
    )
    report(
        f"building one event class with {len(names)} fields via __init__",
        results,
        "mutable attrs class (attrs.define)",
    )


def bench_cattrs(body: bytes, rounds: int, number: int) -> None:
    try:
        import cattrs
    except ImportError:
        print("\ncattrs is not installed: the generated-code vs cattrs comparison is skipped")
        return
    from veba_sdk.events._models import get_class

    data = json.loads(body)
    converter = cattrs.Converter()
    # cattrs structures snake_case attributes; feed it the same payload re-keyed once, and
    # keep the generic path (no per-field overrides) so this is cattrs' standard usage.
    from veba_sdk.events import to_dict

    snake = _snake_payload(to_dict(parse_event(data, name=NAME)))
    cls = get_class(NAME)
    converter.register_structure_hook(
        get_class("ManagedObjectReference"),
        lambda d, _t: get_class("ManagedObjectReference")(d["type"], d["value"]),
    )
    converter.register_structure_hook(
        __import__("datetime").datetime,
        lambda v, _t: _converters._time(v),
    )
    results = side_by_side(
        {
            "generated structuring (parse_event, dict)": lambda: parse_event(data, name=NAME),
            "cattrs Converter.structure": lambda: converter.structure(snake, cls),
        },
        rounds,
        number,
    )
    report(
        "structuring an already decoded mapping",
        results,
        "generated structuring (parse_event, dict)",
    )


def _snake_payload(d: dict[str, Any]) -> dict[str, Any]:
    from veba_sdk.events._models import all_fields

    pascal_to_snake = {f[1]: f[0] for f in all_fields(NAME)}
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            inner = {}
            for k, v in value.items():
                if isinstance(v, dict):
                    v = {"type": v["Type"], "value": v["Value"]}
                inner[{"Name": "name"}.get(k, pascal_to_snake.get(k, k.lower()))] = v
            value = inner
        out[pascal_to_snake[key]] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    # Many short rounds, interleaved: on a shared machine, load then hits every contender alike.
    rounds, number = (21, 200) if args.quick else (201, 500)
    body = FIXTURE.read_bytes()
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{len(body)}-byte fixture, {rounds} rounds x {number} calls"
    )
    bench_json(body, rounds, number)
    bench_frozen(body, rounds, number)
    bench_cattrs(body, rounds, number)


if __name__ == "__main__":
    main()
