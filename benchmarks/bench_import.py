"""Cold import of ``veba_sdk.events`` and first use of one event class, in fresh processes.

Targets (issue 2): ``import veba_sdk.events`` <= 30 ms cumulative by ``python -X importtime``,
attrs included (when imported), with neither httpx nor pyvmomi imported; the first use of one
event class (creating it and its ancestors) <= 2 ms.

The machine is shared and often loaded, which inflates absolute import times 2-4x, so:

* each import is timed in a fresh ``python -X importtime`` process, ``--rounds`` times
  (default 15), the contenders interleaved round by round, and the *minimum* cumulative time
  is reported, next to baselines measured in the same loop (``import json``, ``import attrs``);
* bytecode is cached (``PYTHONPYCACHEPREFIX`` in a temporary directory, warmed once), as in
  any installed package; ``PYTHONDONTWRITEBYTECODE`` would otherwise make every run compile
  the package's source again;
* first use: one fresh process per class and run (``--runs``, default 3), timing
  ``EVENT_CLASSES[name]`` with ``perf_counter`` right after ``import veba_sdk.events``; a sample
  of ``--sample`` classes (default 40) spread over every hierarchy depth, or ``--all``.

Run: ``python benchmarks/bench_import.py`` (prints Markdown; ``--write`` updates the
"Import and first use" section of ``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "src"))

from _sample import FIXTURE  # noqa: E402
from _timing import machine, table  # noqa: E402

from veba_sdk.events._catalogue import EVENTS  # noqa: E402

IMPORTS = {
    "import json (baseline)": ["json"],
    "import attrs (baseline)": ["attrs"],
    "import veba_sdk.events": ["veba_sdk.events"],
    "import attrs, veba_sdk.events": ["attrs", "veba_sdk.events"],
}

FIRST_USE = """
import sys, time, json
import veba_sdk.events as events
from veba_sdk.events import _models
assert not _models._cache, "a class was created at import"
name = sys.argv[1]
start = time.perf_counter()
cls = events.EVENT_CLASSES[name]
created = time.perf_counter()
cls()
instantiated = time.perf_counter()
print(json.dumps({"ms": (created - start) * 1e3, "new": (instantiated - start) * 1e3,
                  "attrs": "attrs" in sys.modules}))
"""

FIRST_PARSE = """
import sys, time, json
from pathlib import Path
body = Path(sys.argv[1]).read_bytes()
start = time.perf_counter()
import veba_sdk.events as events
imported = time.perf_counter()
events.parse_event(body, name="EnteredMaintenanceModeEvent")
first = time.perf_counter()
events.parse_event(body, name="EnteredMaintenanceModeEvent")
second = time.perf_counter()
print(json.dumps({"import": (imported - start) * 1e3, "first": (first - imported) * 1e3,
                  "second": (second - first) * 1e3,
                  "heavy": sorted(m for m in sys.modules
                                  if m.split(".")[0] in ("httpx", "pyVmomi", "pyVim"))}))
"""


def environment(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    return env


def import_ms(modules: list[str], env: dict[str, str]) -> float:
    """Cumulative -X importtime of the given top-level imports, in ms."""
    code = "; ".join(f"import {m}" for m in modules)
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    total = 0
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line[len("import time:") :].split("|")
        # A top-level import has one space before its name (each level nests two more).
        if name.strip() in modules and name[1:2] != " ":
            total += int(cumulative)
    return total / 1e3


def depth(name: str) -> int:
    """How many ancestors add fields (what class creation pays for)."""
    count = 0
    current: str | None = name
    while current is not None:
        parent, _since, own = EVENTS[current]
        count += 1 if own else 0
        current = parent
    return count


def sample(n: int) -> list[str]:
    """``n`` class names spread evenly over the catalogue sorted by depth and ancestry."""
    names = sorted(EVENTS, key=lambda k: (depth(k), k))
    if n >= len(names):
        return names
    step = (len(names) - 1) / (n - 1)
    picked = [names[round(i * step)] for i in range(n)]
    deepest = max(names, key=depth)  # always include the deepest hierarchy
    return sorted(set(picked) | {deepest}, key=lambda k: (depth(k), k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--all", action="store_true", help="first use of all 443 classes")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    with tempfile.TemporaryDirectory() as cache:
        env = environment(cache)
        for modules in IMPORTS.values():  # warm the bytecode cache
            import_ms(modules, env)
        samples: dict[str, list[float]] = {k: [] for k in IMPORTS}
        for _ in range(args.rounds):
            for key, modules in IMPORTS.items():
                samples[key].append(import_ms(modules, env))

        names = sorted(EVENTS) if args.all else sample(args.sample)
        first_use: dict[str, list[float]] = {n: [] for n in names}
        first_new: dict[str, list[float]] = {n: [] for n in names}
        attrs_imported = False
        for _ in range(args.runs):
            for name in names:
                out = subprocess.run(
                    [sys.executable, "-c", FIRST_USE, name],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                row = json.loads(out)
                first_use[name].append(row["ms"])
                first_new[name].append(row["new"])
                attrs_imported |= row["attrs"]

        parses = []
        for _ in range(args.runs * 3):
            out = subprocess.run(
                [sys.executable, "-c", FIRST_PARSE, str(FIXTURE)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            parses.append(json.loads(out))

    best = {k: min(v) for k, v in samples.items()}
    median = {k: statistics.median(v) for k, v in samples.items()}
    rows = [(k, f"{best[k]:.1f} ms", f"{median[k]:.1f} ms") for k in IMPORTS]
    per_class = {n: min(v) for n, v in first_use.items()}
    by_depth: dict[int, list[float]] = {}
    for n, ms in per_class.items():
        by_depth.setdefault(depth(n), []).append(ms)
    worst = max(per_class, key=per_class.__getitem__)
    per_class_new = {n: min(v) for n, v in first_new.items()}
    worst_new = max(per_class_new, key=per_class_new.__getitem__)
    raw = [ms for v in first_use.values() for ms in v]
    depth_rows = [
        (str(d), str(len(v)), f"{statistics.median(v):.2f} / {max(v):.2f} ms")
        for d, v in sorted(by_depth.items())
    ]
    first_parse = min(p["first"] for p in parses)
    second_parse = min(p["second"] for p in parses)

    events_best = best["import veba_sdk.events"]
    heavy = parses[0]["heavy"] or "none"
    text = f"""## Import and first use

Command: `python benchmarks/bench_import.py` (`--write` updates this section; `--all` times the
first use of all 443 classes). Machine: {machine()}, load average {load:.1f} at the start.
Fresh processes; bytecode cached in a temporary `PYTHONPYCACHEPREFIX`, as in an installed
package.

`python -X importtime`, cumulative, {args.rounds} rounds interleaved; the best run is the
number to read on this shared machine (the median shows the load):

{table(rows, ("import", "best", "median"))}

- Target `import veba_sdk.events` <= 30 ms: **{events_best:.1f} ms** best, i.e.
  {events_best - best["import json (baseline)"]:+.1f} ms over `import json` in the same loop.
  httpx and pyvmomi are not imported (found: {heavy}).
- attrs is no longer imported by `veba_sdk.events`: the models load it only when something
  calls attrs' functions on them ("Event parsing" above). Counted with attrs, the import is
  {best["import attrs, veba_sdk.events"]:.1f} ms, attrs alone
  {best["import attrs (baseline)"]:.1f} ms in the same loop (it imports `inspect`,
  `threading`, `copy` and creates a dozen attrs classes of its own).
- orjson (with `dataclasses`, `uuid`, `platform`, which it imports) is loaded on the first
  decode, `base64` and `urllib.parse` (with `ipaddress`) where they are used.
- The ~19 ms of `_parse` self time seen before was its source being compiled on every import:
  with `PYTHONDONTWRITEBYTECODE` set and no up-to-date `.pyc`, as in this sandbox, the whole
  package is compiled in every process (measured 24 ms best of 10, still under target). The
  structuring code itself was, and is, generated per class on the first parse.

First use of one event class (`EVENT_CLASSES[name]` in a fresh process right after the import,
creating the class and its ancestors; best of {args.runs} processes per class,
{len(names)} classes{" (all)" if args.all else ", sampled over every depth"}): median
**{statistics.median(per_class.values()):.2f} ms**, max **{per_class[worst]:.2f} ms**
(`{worst}`); target <= 2 ms. The slowest single process measured {max(raw):.2f} ms. A class's
`__init__` is generated on its first call (parsing never calls it): creating the class and one
instance, `EVENT_CLASSES[name]()`, takes median
**{statistics.median(per_class_new.values()):.2f} ms**, max
**{per_class_new[worst_new]:.2f} ms** (`{worst_new}`). attrs imported by first use:
{"yes" if attrs_imported else "no"}.

{table(depth_rows, ("field-adding ancestors (incl. itself)", "classes", "median / max"))}

First `parse_event` of the EnteredMaintenanceModeEvent fixture in a fresh process, after the
import: {first_parse:.1f} ms (imports orjson, creates the class, its ancestors, the argument
types and the MoRef, generates its structuring function); the second call:
{second_parse * 1e3:.0f} us.
"""
    print(text)
    if args.write:
        from _report import write_section

        write_section("Import and first use", text)


if __name__ == "__main__":
    main()
