"""OpenFaaS's python3-http template around ``openfaas.handler``, served by waitress.

``index.py`` of openfaas/python-flask-template, restated: Flask routes every path and the
methods GET, PUT, POST, PATCH and DELETE to ``handler.handle(Event(), Context())`` and turns the
returned dict into ``(body, statusCode, headers)``; the body is ``str()``-ed unless a dict.
Run as ``python _openfaas_app.py PORT``.
"""

from __future__ import annotations

import os
from typing import Any

from _http_apps import router
from flask import Flask, request

from veba_sdk.adapters import openfaas

#: The python3-http template's ``handler.handle``.
handle: openfaas.PythonHttpHandle = openfaas.handler(router)

#: The python3-http template's ``index.py``, as in openfaas/python-flask-template.
flask_app = Flask(__name__)


class Event:
    """The template's ``Event``: the request's body, headers, method, query and path."""

    def __init__(self) -> None:
        self.body = request.get_data()
        self.headers = request.headers
        self.method = request.method
        self.query = request.args
        self.path = request.path


class FunctionContext:
    """The template's ``Context``."""

    def __init__(self) -> None:
        self.hostname = os.getenv("HOSTNAME", "localhost")


def _format_response(resp: Any) -> Any:
    """The template's ``format_response``: ``(body, status, headers)`` from the dict."""
    if resp is None:
        return ("", 200)
    if isinstance(resp, dict):
        body = resp.get("body", "")
        if type(body) is not dict:
            body = str(body)
        headers = resp.get("headers", [])
        if isinstance(headers, dict):
            headers = list(headers.items())
        return (body, resp.get("statusCode", 200), headers)
    return resp


@flask_app.route("/", defaults={"path": ""}, methods=["GET", "PUT", "POST", "PATCH", "DELETE"])
@flask_app.route("/<path:path>", methods=["GET", "PUT", "POST", "PATCH", "DELETE"])
def call_handler(path: str) -> Any:
    """The template's single route: every path and method goes to ``handle``."""
    return _format_response(handle(Event(), FunctionContext()))


if __name__ == "__main__":
    import sys

    from waitress import serve

    serve(flask_app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
