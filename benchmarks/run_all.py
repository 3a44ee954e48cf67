"""Run every benchmark and refresh docs/performance.md.

``python benchmarks/run_all.py [--quick] [--py313]``. Each benchmark measures its contenders
side by side in one run and writes its own section (machine and date included); the order runs
the cheap ones first. The HTTP load benchmark needs wrk (Debian package ``wrk``), the vCenter
source benchmark the simulator built by ``tests/vcsim/build.sh``.

``--py313`` runs the same benchmarks under Python 3.13, in the Debian trixie root of
``scripts/test-py313.sh`` (made there if missing; needs root): their sections are written
beside the main interpreter's, titled "... (Python 3.13)". The HTTP load benchmark there uses
httptools and uvloop built for 3.13 (``.matrix/speedups-3.13``) and the root's func-python venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_section  # noqa: E402


def _run(*argv: str, missed_ok: bool = False) -> str:
    """Run one benchmark; ``missed_ok``: its exit status 1 (a target missed) is a result."""
    print(f"== {' '.join(argv)}", flush=True)
    done = subprocess.run(
        [sys.executable, *argv], cwd=HERE.parent, capture_output=True, text=True, check=False
    )
    print(done.stdout, flush=True)
    if done.returncode not in ((0, 1) if missed_ok else (0,)):
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)
    return done.stdout


def _in_py313_root(quick: bool) -> int:
    """Run this script again in the Python 3.13 root, sections named after the interpreter."""
    root = HERE.parent
    script = root / "scripts" / "test-py313.sh"
    speedups = root / ".matrix" / "speedups-3.13"
    env = {
        **os.environ,
        "PY313_REUSE": "1",
        "VEBA_BENCH_NAME_PYTHON": "1",
        "VEBA_BENCH_SPEEDUPS": str(speedups),
        "VEBA_CE2_PYTHON": "/opt/veba-ce2/bin/python",
    }
    if not speedups.is_dir():
        subprocess.run(
            ["bash", str(script), "--run", "python", "-m", "pip", "install", "--quiet",
             "--target", str(speedups), "httptools", "uvloop"],
            cwd=root, env=env, check=True,
        )  # fmt: skip
    argv = ["bash", str(script), "--run", "python", "benchmarks/run_all.py"]
    return subprocess.run([*argv, *(["--quick"] if quick else [])], cwd=root, env=env).returncode


def main() -> int:
    quick = "--quick" in sys.argv
    if "--py313" in sys.argv:
        return _in_py313_root(quick)
    _run("benchmarks/bench_dispatch.py", "--write")
    _run("benchmarks/bench_import.py", "--write")
    parse = _run("benchmarks/bench_parse.py", *(["--quick"] if quick else []))
    write_section(
        "Event parsing: latest run",
        "## Event parsing: latest run\n\n```\n"
        f"{parse.strip()}\n```\n\nThe analysis is in the Event parsing section above.",
    )
    _run("benchmarks/bench_vrops.py", "--events", "200" if quick else "1000", "--write")
    source = _run(
        "benchmarks/bench_source.py", "--markdown", "--events", "500" if quick else "5000"
    )
    write_section(
        "vCenter event source: latest run",
        f"## vCenter event source: latest run\n\n{source.strip()}\n",
    )
    _run("benchmarks/http_load/run.py", "--write", *(["--quick"] if quick else []), missed_ok=True)
    _run(
        "benchmarks/http_load/gc_sweep.py",
        "--write",
        *(["--seconds", "2", "--warmup", "1", "--rounds", "1"] if quick else []),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
