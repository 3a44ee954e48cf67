"""Stand-ins for the event processors `veba listen` delivers to, all on 127.0.0.1.

* :class:`Gateway`: an OpenFaaS gateway serving ``GET /system/functions`` behind basic auth
  and recording ``POST /function/<name>`` and ``/async-function/<name>`` invocations; a
  script per function fails chosen calls (503, 429, ...), or every n-th call.
* :class:`Broker`: a Knative broker ingress recording CloudEvents (binary or structured).
* :class:`EventBridgeStack`: moto's server mode with an event bus, a rule with a pattern
  and an SQS queue as its target, plus a catch-all rule on a second queue (to see that
  unmatched events were never sent); and a :class:`FailingProxy` in front of moto that
  drops chosen ``PutEvents`` entries and reports them in ``FailedEntryCount``, as
  EventBridge does when throttled.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server:
    """A ThreadingHTTPServer on an ephemeral loopback port, served on a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Invocation:
    """One function call the gateway answered."""

    def __init__(self, kind: str, function: str, headers: dict[str, str], body: bytes, status: int):
        self.kind = kind  # "function" or "async-function"
        self.function = function
        self.headers = headers
        self.body = body
        self.status = status

    @property
    def event(self) -> dict[str, Any]:
        document = json.loads(self.body)
        assert isinstance(document, dict)
        return document


class Gateway:
    """An OpenFaaS gateway stand-in.

    ``functions`` maps function names to their ``topic`` annotation (``None``: no
    annotation). ``script[name]`` lists the statuses of that function's next answers (then
    ``default``); ``fail_every`` = (n, statuses) fails every n-th call overall, cycling
    through ``statuses``.
    """

    def __init__(
        self,
        functions: dict[str, str | None],
        *,
        username: str = "admin",
        password: str = "gateway-secret",
    ) -> None:
        self.lock = threading.Lock()
        self.functions = dict(functions)
        self.username = username
        self.password = password
        self.script: dict[str, list[int]] = {}
        self.fail_every: tuple[int, list[int]] | None = None
        self.calls = 0
        self.invocations: list[Invocation] = []
        self.system_requests: list[dict[str, str]] = []
        self.system_denied = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.partition("?")[0] != "/system/functions":
                    self._answer(404, b"not found")
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                with gateway.lock:
                    gateway.system_requests.append(headers)
                expected = "Basic " + base64.b64encode(
                    f"{gateway.username}:{gateway.password}".encode()
                ).decode("ascii")
                if headers.get("authorization") != expected:
                    with gateway.lock:
                        gateway.system_denied += 1
                    self._answer(401, b"Unauthorized")
                    return
                with gateway.lock:
                    listing = [
                        {
                            "name": name,
                            "image": f"example/{name}:latest",
                            "namespace": "openfaas-fn",
                            "replicas": 1,
                            "availableReplicas": 1,
                            "invocationCount": 0,
                            "annotations": {"topic": topic} if topic is not None else None,
                            "labels": {"faas_function": name},
                        }
                        for name, topic in gateway.functions.items()
                    ]
                self._answer(200, json.dumps(listing).encode(), "application/json")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                kind, _, name = self.path.lstrip("/").partition("/")
                with gateway.lock:
                    gateway.calls += 1
                    if kind not in ("function", "async-function") or name not in gateway.functions:
                        status = 404
                    elif gateway.script.get(name):
                        status = gateway.script[name].pop(0)
                    elif gateway.fail_every and gateway.calls % gateway.fail_every[0] == 0:
                        statuses = gateway.fail_every[1]
                        status = statuses[(gateway.calls // gateway.fail_every[0]) % len(statuses)]
                    else:
                        status = 202 if kind == "async-function" else 200
                    gateway.invocations.append(Invocation(kind, name, headers, body, status))
                self._answer(status, b"ok" if status < 300 else b"failed")

            def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = _Server(Handler)
        self.url = self._server.url

    def accepted(self, function: str) -> list[Invocation]:
        """The calls of ``function`` answered with a 2xx."""
        with self.lock:
            return [i for i in self.invocations if i.function == function and i.status < 300]

    def close(self) -> None:
        self._server.close()


class Broker:
    """A Knative broker ingress stand-in: records CloudEvents, answers 202 (or a script;
    ``fail_every`` = n answers every n-th request 503)."""

    def __init__(self, path: str = "/default/rabbit") -> None:
        self.lock = threading.Lock()
        self.path = path
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.script: list[int] = []
        self.fail_every = 0
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with broker.lock:
                    count = len(broker.requests) + 1
                    if self.path != broker.path:
                        status = 404
                    elif broker.script:
                        status = broker.script.pop(0)
                    elif broker.fail_every and count % broker.fail_every == 0:
                        status = 503
                    else:
                        status = 202
                    broker.requests.append((headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = _Server(Handler)
        self.url = self._server.url + path

    def accepted(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """(attributes, data) of each accepted event, in arrival order."""
        out = []
        with self.lock:
            requests = list(self.requests)
        for headers, body, status in requests:
            if status >= 300:
                continue
            if headers.get("content-type", "").startswith("application/cloudevents+json"):
                document = json.loads(body)
                data = document.pop("data")
                out.append((document, data))
            else:
                attributes = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
                out.append((attributes, json.loads(body)))
        return out

    def close(self) -> None:
        self._server.close()


class FailingProxy:
    """An HTTP proxy in front of moto: ``PutEvents`` entries chosen by ``fail`` are not
    forwarded and come back as failed entries (``ErrorCode`` ``ThrottlingException``) with
    the right ``FailedEntryCount``; with ``fail_calls_every`` = n, every n-th ``PutEvents``
    call is answered 500 ``InternalFailure`` whole; other requests pass through untouched."""

    def __init__(self, upstream_port: int) -> None:
        self.lock = threading.Lock()
        self.fail: Callable[[dict[str, Any]], bool] = lambda entry: False
        self.put_calls: list[list[dict[str, Any]]] = []
        self.failed_entries: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.fail_calls_every = 0
        self.failed_calls = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                target = self.headers.get("x-amz-target", "")
                with proxy.lock:
                    proxy.authorizations.append(self.headers.get("authorization", ""))
                dropped: list[int] = []
                if target.endswith(".PutEvents"):
                    request = json.loads(body)
                    entries = request["Entries"]
                    with proxy.lock:
                        proxy.put_calls.append(entries)
                        every = proxy.fail_calls_every
                        if every and len(proxy.put_calls) % every == 0:
                            proxy.failed_calls += 1
                            failure = {"__type": "InternalFailure", "message": "try again"}
                            self._reply(500, json.dumps(failure).encode())
                            return
                        dropped = [i for i, entry in enumerate(entries) if proxy.fail(entry)]
                        proxy.failed_entries.extend(entries[i] for i in dropped)
                    request["Entries"] = [e for i, e in enumerate(entries) if i not in dropped]
                    body = json.dumps(request).encode()
                    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
                    headers["Content-Length"] = str(len(body))
                answer: dict[str, Any]
                if dropped and not [e for i, e in enumerate(entries) if i not in dropped]:
                    status, answer = 200, {"FailedEntryCount": 0, "Entries": []}
                else:
                    status, answer_bytes = proxy._forward(self.path, body, headers)
                    if not dropped:
                        self._reply(status, answer_bytes)
                        return
                    answer = json.loads(answer_bytes)
                results = iter(answer.get("Entries", []))
                merged = []
                for index in range(len(entries)):
                    if index in dropped:
                        merged.append(
                            {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
                        )
                    else:
                        merged.append(next(results))
                answer["Entries"] = merged
                answer["FailedEntryCount"] = answer.get("FailedEntryCount", 0) + len(dropped)
                self._reply(200, json.dumps(answer).encode())

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/x-amz-json-1.1")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.upstream_port = upstream_port
        self._server = _Server(Handler)
        self.url = self._server.url

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def close(self) -> None:
        self._server.close()


ACCOUNT = "123456789012"
REGION = "us-west-1"


class EventBridgeStack:
    """moto in server mode: bus ``veba-<random>``, rule ``vmware-event-router`` (``pattern``)
    to queue ``matched``, and a catch-all rule to queue ``everything``."""

    def __init__(self, pattern: dict[str, Any]) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.port = port
        self.proxy = FailingProxy(port)
        options: dict[str, Any] = {
            "region_name": REGION,
            "endpoint_url": self.endpoint,
            "aws_access_key_id": "AKIATESTTESTTEST",
            "aws_secret_access_key": "test-secret-key",
        }
        self.events = boto3.client("events", **options)
        self.sqs = boto3.client("sqs", **options)
        # moto's state is per process: names of our own, as stacks come and go.
        suffix = uuid.uuid4().hex[:8]
        self.bus = f"veba-{suffix}"
        self.events.create_event_bus(Name=self.bus)
        self.queues: dict[str, str] = {}
        for name in ("matched", "everything"):
            url = self.sqs.create_queue(QueueName=f"{name}-{suffix}")["QueueUrl"]
            self.queues[name] = url
        self.rule_arn = self._rule("vmware-event-router", pattern, "matched")
        self._rule("catch-all", {"source": [{"prefix": ""}]}, "everything")

    def _rule(self, name: str, pattern: dict[str, Any], queue: str) -> str:
        arn = self.events.put_rule(
            Name=name, EventBusName=self.bus, EventPattern=json.dumps(pattern)
        )["RuleArn"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queues[queue], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.events.put_targets(
            Rule=name, EventBusName=self.bus, Targets=[{"Id": queue, "Arn": queue_arn}]
        )
        return str(arn)

    def drain(self, queue: str) -> list[dict[str, Any]]:
        """Every message now in ``queue`` (the EventBridge events), in arrival order."""
        out: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queues[queue], MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = answer.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queues[queue], ReceiptHandle=message["ReceiptHandle"]
                )

    def close(self) -> None:
        self.proxy.close()
        self.server.stop()
