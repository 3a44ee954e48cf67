"""Contender (h): a Flask + cloudevents app written like VEBA's ``kn-py-echo`` sample.

Served by gunicorn with one sync worker: ``gunicorn -w 1 -k sync flask_echo:app``. The sample
also logs every event as JSON; that is left out so every contender does the same work.
"""

from __future__ import annotations

from cloudevents.http import from_http
from flask import Flask, request

app = Flask(__name__)
SEEN: list[str] = [""]


@app.route("/", methods=["POST"])
def echo() -> tuple[str, int]:
    """Decode the CloudEvent, read the host's name, answer 204 (400 if undecodable)."""
    try:
        event = from_http(request.headers, request.get_data(), None)
        SEEN[0] = event.data["Host"]["Name"]
    except Exception as exc:  # the sample answers 400 for anything it cannot decode
        return f"could not decode cloud event: {exc}", 400
    return "", 204
