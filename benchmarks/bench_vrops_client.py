"""The vROps client's own cost: one token acquire, then N calls, on a canned in-process transport.

The transport (``httpx.MockTransport``) answers from prepared bytes, so what is measured is
the client: the token flow, request building, retries' bookkeeping, response parsing. Each
round makes a client, acquires a token (first call), makes ``--calls`` ``get_resource``
calls, and closes it (releasing the token); sync and async clients alike.

Run: ``python benchmarks/bench_vrops_client.py [--calls 2000] [--rounds 5]``. To compare two
source trees side by side in one run (old, new, old, new ...)::

    python benchmarks/bench_vrops_client.py --compare /tmp/before/src src
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESOURCE = json.dumps(
    {
        "identifier": "0f1e2d3c-0000-4000-8000-000000000019",
        "resourceKey": {
            "name": "esx01",
            "adapterKindKey": "VMWARE",
            "resourceKindKey": "HostSystem",
            "resourceIdentifiers": [
                {"identifierType": {"name": "VMEntityObjectID"}, "value": "host-19"}
            ],
        },
        "resourceStatusStates": [{"resourceState": "STARTED"}],
    }
).encode()
TOKEN = json.dumps({"token": "t" * 40, "validity": 2**50, "expiresAt": "later"}).encode()
JSON = [("content-type", "application/json")]


def _answer(request: object) -> object:
    import httpx

    assert isinstance(request, httpx.Request)
    path = request.url.path
    if path.endswith("/token/acquire"):
        return httpx.Response(200, headers=JSON, content=TOKEN)
    if path.endswith("/token/release"):
        return httpx.Response(200)
    return httpx.Response(200, headers=JSON, content=RESOURCE)


def measure(calls: int, rounds: int) -> dict[str, float]:
    """Microseconds per call (the acquire included), best of ``rounds``, sync and async."""
    import httpx

    from veba_sdk.vrops import AsyncVropsClient, VropsClient

    rid = "0f1e2d3c-0000-4000-8000-000000000019"

    def sync_round() -> float:
        start = time.perf_counter()
        with VropsClient(
            "https://vrops.test", "u", "p", transport=httpx.MockTransport(_answer)
        ) as client:
            for _ in range(calls):
                client.get_resource(rid)
        return time.perf_counter() - start

    async def async_round() -> float:
        start = time.perf_counter()
        async with AsyncVropsClient(
            "https://vrops.test", "u", "p", transport=httpx.MockTransport(_answer)
        ) as client:
            for _ in range(calls):
                await client.get_resource(rid)
        return time.perf_counter() - start

    sync_round()  # warm imports and caches
    asyncio.run(async_round())
    sync = min(sync_round() for _ in range(rounds))
    asyncs = min(asyncio.run(async_round()) for _ in range(rounds))
    return {"sync": sync / calls * 1e6, "async": asyncs / calls * 1e6}


def compare(trees: list[str], calls: int, rounds: int, repeats: int) -> None:
    """Run :func:`measure` in a fresh interpreter per tree, interleaved, and print medians."""
    results: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
    for _ in range(repeats):
        for tree in trees:
            out = subprocess.run(
                [sys.executable, __file__, "--calls", str(calls), "--rounds", str(rounds)],
                env={**os.environ, "PYTHONPATH": str(Path(tree).resolve())},
                capture_output=True,
                text=True,
                check=True,
            )
            results[tree].append(json.loads(out.stdout))
    print(f"us per call (token acquire + {calls} get_resource); median and best of {repeats}:")
    print(f"{'source':<40} {'sync':>8} {'best':>8} {'async':>8} {'best':>8}")
    for tree, runs in results.items():
        sync = [r["sync"] for r in runs]
        asyncs = [r["async"] for r in runs]
        print(
            f"{tree:<40} {statistics.median(sync):8.1f} {min(sync):8.1f}"
            f" {statistics.median(asyncs):8.1f} {min(asyncs):8.1f}"
        )


def main() -> None:
    """Measure this interpreter's veba_sdk, or compare source trees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", nargs="+", metavar="SRC", help="source trees to compare")
    args = parser.parse_args()
    if args.compare:
        compare(args.compare, args.calls, args.rounds, args.repeats)
    else:
        print(json.dumps(measure(args.calls, args.rounds)))


if __name__ == "__main__":
    main()
