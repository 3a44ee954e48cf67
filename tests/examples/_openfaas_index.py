"""OpenFaaS's python3-http template ``index.py`` for any handler module, under waitress.

Run as ``python _openfaas_index.py PORT MODULE``; ``MODULE.handle(event, context)`` is called
as the template calls ``function.handler.handle``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters"))

import _openfaas_app
import waitress

if __name__ == "__main__":
    _openfaas_app.handle = importlib.import_module(sys.argv[2]).handle
    waitress.serve(_openfaas_app.flask_app, host="127.0.0.1", port=int(sys.argv[1]), threads=4)
