"""Entry module for a standalone OpenFaaS image (``lang: dockerfile``): the python3-http contract.

With the python3-http template (``faas-cli up``), the template's own index.py imports
``handler.handle`` instead and this file is unused.
"""

import os

from handler import handle

from veba_sdk.cli.openfaas_wsgi import serve, wsgi_app

app = wsgi_app(handle)

if __name__ == "__main__":
    serve(handle, os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080")))
