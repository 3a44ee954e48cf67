"""The apps the auth server tests run, each made with ``auth=None`` so ``VEBA_AUTH`` decides.

Every handled event appends its id to the file named by ``VEBA_TEST_LOG``: what a refused
request must never reach. Run by uvicorn, gunicorn, waitress and functions-framework in their
own processes.
"""

from __future__ import annotations

import os
from typing import Any

from veba_sdk import Context, Router
from veba_sdk.adapters import knative, openfaas

router = Router()


@router.on("VmPoweredOnEvent")
def handled(event: Any, ctx: Context) -> None:
    """Record that the event reached a handler."""
    with open(os.environ["VEBA_TEST_LOG"], "a", encoding="utf-8") as log:
        log.write(f"handled {ctx.id}\n")


#: Knative under uvicorn.
app = knative.asgi(router)
#: Knative under gunicorn.
wsgi_app = knative.wsgi(router)
#: OpenFaaS python3-http's handle.
handle = openfaas.handler(router)


def _openfaas_flask() -> Any:
    """The python3-http template's index.py around ``handle`` (as tests/adapters restates it)."""
    from flask import Flask, request

    flask_app = Flask(__name__)

    class Event:
        def __init__(self) -> None:
            self.body = request.get_data()
            self.headers = request.headers
            self.method = request.method
            self.path = request.path

    @flask_app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @flask_app.route("/<path:path>", methods=["GET", "POST"])
    def call_handler(path: str) -> Any:
        answer = handle(Event(), None)
        return (str(answer["body"]), answer["statusCode"], list(answer["headers"].items()))

    return flask_app


if __name__ == "__main__":
    import sys

    from waitress import serve

    serve(_openfaas_flask(), host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
