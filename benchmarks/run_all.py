"""Run every benchmark and refresh docs/performance.md.

``python benchmarks/run_all.py [--quick]``. Each benchmark measures its contenders side by side
in one run and writes its own section (machine and date included); the order runs the cheap
ones first. The HTTP load benchmark needs wrk (Debian package ``wrk``), the vCenter source
benchmark the simulator built by ``tests/vcsim/build.sh``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_section  # noqa: E402


def _run(*argv: str) -> str:
    print(f"== {' '.join(argv)}", flush=True)
    done = subprocess.run(
        [sys.executable, *argv], cwd=HERE.parent, check=True, capture_output=True, text=True
    )
    print(done.stdout, flush=True)
    return done.stdout


def main() -> int:
    quick = "--quick" in sys.argv
    _run("benchmarks/bench_dispatch.py", "--write")
    _run("benchmarks/bench_import.py", "--write")
    parse = _run("benchmarks/bench_parse.py", *(["--quick"] if quick else []))
    write_section("Event parsing: latest run", "## Event parsing: latest run\n\n```\n"
                  f"{parse.strip()}\n```\n\nThe analysis is in the Event parsing section above.")
    _run("benchmarks/bench_vrops.py", "--events", "200" if quick else "1000", "--write")
    source = _run("benchmarks/bench_source.py", "--markdown",
                  "--events", "500" if quick else "5000")
    write_section("vCenter event source: latest run",
                  f"## vCenter event source: latest run\n\n{source.strip()}\n")
    _run("benchmarks/http_load/run.py", "--write", *(["--quick"] if quick else []))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
