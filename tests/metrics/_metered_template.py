"""OpenFaaS's python3-http template (``tests/adapters/_openfaas_app.py``, its ``index.py``
restated on Flask) around ``_metered``'s ``handle``. Run as ``python _metered_template.py PORT``.
"""

from __future__ import annotations

import sys

import _openfaas_app  # on the PYTHONPATH the test servers get (tests/adapters)
from _metered import openfaas_handle
from waitress import serve

# The template's index.py calls the module-level handle of handler.py: this function's.
_openfaas_app.handle = openfaas_handle()

if __name__ == "__main__":
    serve(_openfaas_app.flask_app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
