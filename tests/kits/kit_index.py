"""veba-sdk built from the checkout and served by a local PEP 503 package index on 127.0.0.1.

The kits' ``requirements.txt`` ask for ``veba-sdk[<extra>]`` as users get it from the public
index once it is released; here the wheel of the checkout stands in for that release, served by
a plain HTTP server over a ``simple/`` tree, so pip (on the host, in a ``docker build`` with
``--network host``, or under ``sam build``) finds it through ``--extra-index-url`` exactly as it
would find a private index. Every other package comes from the index the machine is set up with.
"""

from __future__ import annotations

import functools
import hashlib
import html
import http.server
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(out: Path) -> Path:
    """Build veba-sdk's wheel from the checkout into ``out``; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the wheel failed:\n{result.stdout}\n{result.stderr}")
    (wheel,) = out.glob("veba_sdk-*.whl")
    return wheel


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: pip's own output says what it fetched."""


class PackageIndex:
    """A PEP 503 "simple" index of the given wheels, served from ``root`` on 127.0.0.1."""

    def __init__(self, root: Path, wheels: list[Path]) -> None:
        self.root = root
        files = root / "files"
        files.mkdir(parents=True, exist_ok=True)
        projects: dict[str, list[str]] = {}
        for wheel in wheels:
            target = files / wheel.name
            target.write_bytes(wheel.read_bytes())
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            project = wheel.name.split("-")[0].replace("_", "-").lower()
            href = f"../../files/{wheel.name}#sha256={digest}"
            projects.setdefault(project, []).append(
                f'<a href="{html.escape(href)}">{html.escape(wheel.name)}</a><br>'
            )
        simple = root / "simple"
        simple.mkdir(exist_ok=True)
        links = []
        for project, anchors in projects.items():
            (simple / project).mkdir(exist_ok=True)
            (simple / project / "index.html").write_text(
                "<!DOCTYPE html><html><body>\n" + "\n".join(anchors) + "\n</body></html>\n"
            )
            links.append(f'<a href="{project}/">{project}</a><br>')
        (simple / "index.html").write_text(
            "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        )
        handler = functools.partial(_QuietHandler, directory=str(root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The index URL for ``--extra-index-url`` / ``PIP_EXTRA_INDEX_URL``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/simple/"

    def __enter__(self) -> PackageIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
