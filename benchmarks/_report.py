"""Write one benchmark's section into docs/performance.md, replacing its previous run.

With ``VEBA_BENCH_NAME_PYTHON=1`` (``run_all.py --py313`` sets it for the run in the Python 3.13
root) each section's title gets the interpreter, e.g. "HTTP load (Python 3.13)", so that run
adds its own sections instead of replacing the main interpreter's.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
HEADER = (
    "# Performance\n\n"
    "Every number below is a median measured side by side in one run on the machine named in\n"
    "its section; compare ratios, not absolute times. `python benchmarks/run_all.py` re-runs\n"
    "them all.\n"
)


def write_section(title: str, markdown: str) -> None:
    """Replace (or append) the ``## title`` section of docs/performance.md."""
    python = f"Python {sys.version_info[0]}.{sys.version_info[1]}"
    if os.environ.get("VEBA_BENCH_NAME_PYTHON") == "1" and python not in title:
        heading = f"## {title}"
        title = f"{title} ({python})"
        markdown = markdown.replace(heading, f"## {title}", 1)
    text = PERFORMANCE.read_text() if PERFORMANCE.exists() else HEADER
    if not text.startswith("# Performance"):
        text = HEADER + "\n" + text
    body = markdown.strip() + "\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: body + "\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + body
    PERFORMANCE.write_text(text)
