"""A stand-in for the AWS Lambda Runtime API, for ``awslambdaric`` in the Lambda kit's image.

It follows AWS's published Runtime API (version 2018-06-01):

* ``GET /2018-06-01/runtime/invocation/next`` blocks until an invocation is queued, then answers
  200 with the event as the JSON body and the headers ``Lambda-Runtime-Aws-Request-Id``,
  ``Lambda-Runtime-Deadline-Ms`` (epoch milliseconds), ``Lambda-Runtime-Invoked-Function-Arn``
  and ``Lambda-Runtime-Trace-Id``;
* ``POST /2018-06-01/runtime/invocation/{id}/response`` takes the function's result, 202;
* ``POST /2018-06-01/runtime/invocation/{id}/error`` takes ``{"errorMessage", "errorType",
  "stackTrace"}`` (and the ``Lambda-Runtime-Function-Error-Type`` header), 202;
* ``POST /2018-06-01/runtime/init/error``: the runtime failed to start, 202;
* an unknown request id is 400, anything else 404.

The test queues events with :meth:`RuntimeAPI.invoke` and waits for each outcome.
"""

from __future__ import annotations

import http.server
import json
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-west-1:123456789012:function:veba-function"
_RESULT = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")


@dataclass
class Outcome:
    """What the runtime posted for one invocation."""

    kind: str  # "response" or "error"
    body: Any
    error_type_header: str | None = None


@dataclass
class _Invocation:
    request_id: str
    event: bytes
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None


def trace_id() -> str:
    """An X-Ray trace header value, as Lambda passes it in ``Lambda-Runtime-Trace-Id``."""
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"


class RuntimeAPI:
    """The Runtime API on 127.0.0.1; ``address`` is the ``AWS_LAMBDA_RUNTIME_API`` value."""

    def __init__(self) -> None:
        self._pending: queue.Queue[_Invocation] = queue.Queue()
        self._invocations: dict[str, _Invocation] = {}
        self._stopping = threading.Event()
        self.init_errors: list[Any] = []
        self.polls = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are not logged; the test reads the outcomes."""

            def _answer(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._answer(404, b'{"errorMessage": "not found"}')
                    return
                api.polls += 1
                while not api._stopping.is_set():
                    try:
                        invocation = api._pending.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    deadline = int((time.time() + 30) * 1000)
                    self._answer(
                        200,
                        invocation.event,
                        {
                            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                            "Lambda-Runtime-Deadline-Ms": str(deadline),
                            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                            "Lambda-Runtime-Trace-Id": trace_id(),
                        },
                    )
                    return
                self.close_connection = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                if self.path == f"{PREFIX}/init/error":
                    api.init_errors.append(body)
                    self._answer(202, b'{"status": "OK"}')
                    return
                match = _RESULT.match(self.path)
                if match is None:
                    self._answer(404, b'{"errorMessage": "not found"}')
                    return
                invocation = api._invocations.get(match.group(1))
                if invocation is None or invocation.done.is_set():
                    self._answer(400, b'{"errorMessage": "unknown or finished request id"}')
                    return
                invocation.outcome = Outcome(
                    match.group(2), body, self.headers.get("Lambda-Runtime-Function-Error-Type")
                )
                invocation.done.set()
                self._answer(202, b'{"status": "OK"}')

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """``host:port`` for ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def invoke(self, event: Any, *, timeout: float = 60) -> Outcome:
        """Queue one invocation (JSON-encoded unless bytes) and wait for the runtime's outcome."""
        raw = event if isinstance(event, bytes) else json.dumps(event).encode()
        invocation = _Invocation(str(uuid.uuid4()), raw)
        self._invocations[invocation.request_id] = invocation
        self._pending.put(invocation)
        if not invocation.done.wait(timeout):
            raise TimeoutError(f"no outcome for invocation {invocation.request_id} in {timeout} s")
        assert invocation.outcome is not None
        return invocation.outcome

    def __enter__(self) -> RuntimeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
