"""Hostile HTTP input for the Knative (ASGI, WSGI, func-python ``new``) and OpenFaaS adapters.

Bounded fuzz: each adapter gets at least 10,000 hostile requests per run, most in-process (the
way the server calls the app) and a share over real HTTP against uvicorn, gunicorn and waitress.
Random bytes, truncated JSON and XML, wrong and missing content types, CloudEvents missing
required attributes, broken percent-encoding and non-UTF-8 bytes in ``ce-`` headers, 10 MB
bodies, empty POSTs, GET, HEAD and other methods, odd batches and mutated valid events.

Every answer must be a 4xx with a one-line ``text/plain`` reason (405/413 where they fit) or,
for mutations that still make a valid event, a 2xx; never a 500. Valid events are still served
afterwards, and the adapters must not log a decoder bug (an exception other than InvalidEvent).
The seed is random per run and printed on failure; ``VEBA_FUZZ_SEED`` replays one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _drive import Answer, asgi_request, wsgi_request
from _servers import HERE, PYTHON, free_port, gunicorn_argv, running, uvicorn_argv
from _shapes import ENTER_XML, Shape, producer_shapes, sdk_request

from veba_sdk import Router
from veba_sdk.adapters import knative, openfaas

pytestmark = pytest.mark.slow

PER_ADAPTER = int(os.environ.get("VEBA_FUZZ_REQUESTS", "10000"))
OVER_HTTP = int(os.environ.get("VEBA_FUZZ_HTTP_REQUESTS", "400"))
SEED = int(os.environ.get("VEBA_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
TEN_MB = b"\x8f" * (10 << 20)
SHAPES = producer_shapes()
REQUIRED = ("id", "source", "specversion", "type")
CONTENT_TYPES = [
    b"application/json",
    b"application/cloudevents+json",
    b"application/cloudevents-batch+json",
    b"application/xml",
    b"text/xml",
    b"text/plain",
    b"text/html",
    b"multipart/form-data; boundary=x",
    b"application/octet-stream",
    b"application/cloudevents+json; charset=latin-1",
    b"application/json; charset=utf-16",
    b"",
    b";;;",
    b"application/\xff\xfe",
]
BAD_PERCENT = ["%", "%%", "%zz", "abc%4", "%c3%28", "%e2%82", "%ff%fe", "%G0", "100%"]


@dataclass
class Hostile:
    """One hostile request and what an answer to it may be."""

    kind: str
    method: str
    path: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    must_reject: bool = True  # False: a mutation that may still be a valid event

    def __repr__(self) -> str:
        return (
            f"Hostile({self.kind}, {self.method} {self.path}, headers={self.headers[:6]!r}, "
            f"body={self.body[:120]!r}{'...' if len(self.body) > 120 else ''})"
        )


def _binary(shape: Shape) -> tuple[list[tuple[bytes, bytes]], bytes]:
    headers, body = sdk_request(shape, "binary")
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()], body


def _structured(shape: Shape) -> bytes:
    return json.dumps({**shape.attributes, "data": shape.data}).encode()


def _random_bytes(rng: random.Random, size: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(size))


class Generator:
    """Makes hostile requests from a seeded RNG; ``http_safe`` keeps headers sendable."""

    def __init__(
        self,
        rng: random.Random,
        *,
        http_safe: bool = False,
        big: bool = True,
        methods: tuple[str, ...] = ("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"),
    ) -> None:
        self.rng = rng
        self.http_safe = http_safe
        self.big = big
        self.methods = methods
        self.makers: list[Callable[[], Hostile]] = [
            self.random_body,
            self.truncated_json,
            self.truncated_xml,
            self.wrong_content_type,
            self.missing_attribute_binary,
            self.missing_attribute_structured,
            self.bad_percent,
            self.non_utf8_header,
            self.empty_post,
            self.wrong_method,
            self.bad_type,
            self.bad_batch,
            self.mutated_data,
            self.bad_data,
            self.byte_flips,
        ]

    def __call__(self) -> Hostile:
        if self.big and self.rng.random() < 0.002:
            return self.ten_mb()
        return self.rng.choice(self.makers)()

    def shape(self) -> Shape:
        return self.rng.choice(SHAPES)

    def ct(self) -> list[tuple[bytes, bytes]]:
        value = self.rng.choice(CONTENT_TYPES)
        if self.http_safe and not value.isascii():
            value = b"application/x-unknown"
        return [(b"content-type", value)] if value or self.rng.random() < 0.5 else []

    def random_body(self) -> Hostile:
        size = self.rng.choice([1, 2, 7, 64, 500, 4096])
        body = _random_bytes(self.rng, size)
        if body.lstrip()[:1] in (b"{", b"["):
            body = b"\x00" + body
        return Hostile("random-bytes", "POST", "/", self.ct(), body)

    def truncated_json(self) -> Hostile:
        body = _structured(self.shape())
        cut = self.rng.randrange(0, len(body) - 1)
        headers = self.rng.choice(
            [[], [(b"content-type", b"application/cloudevents+json")], self.ct()]
        )
        return Hostile("truncated-json", "POST", "/", headers, body[:cut])

    def truncated_xml(self) -> Hostile:
        headers, _ = _binary(SHAPES[8])
        headers = [(k, v) for k, v in headers if k != b"content-type"]
        headers.append((b"content-type", self.rng.choice([b"application/xml", b"text/xml"])))
        cut = self.rng.randrange(0, len(ENTER_XML) - 1)
        return Hostile("truncated-xml", "POST", "/", headers, ENTER_XML[:cut])

    def wrong_content_type(self) -> Hostile:
        shape = self.shape()
        body = self.rng.choice([_structured(shape), ENTER_XML, b"<html><body>hi</body></html>"])
        value = self.rng.choice(
            [b"text/html", b"image/png", b"application/cloudevents+xml", b"multipart/mixed"]
        )
        return Hostile("wrong-content-type", "POST", "/", [(b"content-type", value)], body)

    def missing_attribute_binary(self) -> Hostile:
        headers, body = _binary(self.shape())
        missing = self.rng.choice(REQUIRED)
        headers = [(k, v) for k, v in headers if k != f"ce-{missing}".encode()]
        if self.rng.random() < 0.5:
            headers.append((f"ce-{missing}".encode(), b""))
        return Hostile(f"binary-without-{missing}", "POST", "/", headers, body)

    def missing_attribute_structured(self) -> Hostile:
        shape = self.shape()
        document: dict[str, Any] = {**shape.attributes, "data": shape.data}
        missing = self.rng.choice(REQUIRED)
        if self.rng.random() < 0.5:
            del document[missing]
        else:
            document[missing] = self.rng.choice([None, "", 7, [], {}, 1.5])
        headers = self.rng.choice([[], [(b"content-type", b"application/cloudevents+json")]])
        return Hostile(
            f"structured-without-{missing}", "POST", "/", headers, json.dumps(document).encode()
        )

    def bad_percent(self) -> Hostile:
        headers, body = _binary(self.shape())
        target = self.rng.choice([b"ce-id", b"ce-source", b"ce-type", b"ce-subject", b"ce-x"])
        value = self.rng.choice(BAD_PERCENT).encode()
        headers = [(k, v) for k, v in headers if k != target] + [(target, value)]
        return Hostile("bad-percent", "POST", "/", headers, body)

    def non_utf8_header(self) -> Hostile:
        headers, body = _binary(self.shape())
        target = self.rng.choice([b"ce-id", b"ce-source", b"ce-type", b"ce-eventclass", b"ce-x"])
        value = b"vc\xff\xfe" + _random_bytes(self.rng, 3).replace(b"\n", b"")
        if self.http_safe:
            value = bytes(b if b >= 0x80 or 0x21 <= b < 0x7F else 0x80 for b in value)
        headers = [(k, v) for k, v in headers if k != target] + [(target, value)]
        return Hostile("non-utf8-header", "POST", "/", headers, body)

    def empty_post(self) -> Hostile:
        headers = self.rng.choice([[], self.ct(), _binary(self.shape())[0]])
        return Hostile("empty-post", "POST", "/", headers, b"")

    def wrong_method(self) -> Hostile:
        method = self.rng.choice(self.methods)
        headers, body = _binary(self.shape())
        if method in ("GET", "HEAD"):
            body = b""
        return Hostile(f"method-{method}", method, self.rng.choice(["/", "/x"]), headers, body)

    def bad_type(self) -> Hostile:
        shape = self.shape()
        value = self.rng.choice(
            [
                "com.vmware.event.router/bogus",
                "com.vmware.vsphere..v0",
                "com.vmware.vsphere.v0",
                "com.example.other",
                "x" * 5000,
                "com.vmware.event.router/event",  # with the subject removed below
            ]
        )
        attributes = {**shape.attributes, "type": value}
        attributes.pop("subject", None)
        if value.startswith("com.vmware.vsphere") and self.rng.random() < 0.5:
            attributes["eventclass"] = "bogus"
        document = {**attributes, "data": shape.data}
        # A type that names no vCenter event is still a CloudEvent, routable by its type
        # (Router.on_type): no route here selects it, so 2xx is right for it.
        foreign = value in ("com.example.other", "com.vmware.event.router/bogus")
        return Hostile(
            "bad-type", "POST", "/", [], json.dumps(document).encode(), must_reject=not foreign
        )

    def bad_batch(self) -> Hostile:
        shape = self.shape()
        good = {**shape.attributes, "data": shape.data}
        body = self.rng.choice(
            [
                json.dumps({"not": "an array"}),
                json.dumps([good, 5]),
                json.dumps([good, {"specversion": "1.0"}]),
                json.dumps([[good]]),
                "[" + json.dumps(good),
                "null",
            ]
        ).encode()
        headers = [(b"content-type", b"application/cloudevents-batch+json")]
        return Hostile("bad-batch", "POST", "/", headers, body)

    def mutated_data(self) -> Hostile:
        """Odd field values in a valid envelope: the parser is tolerant, so 2xx is fine too."""
        shape = self.shape()
        data = dict(shape.data) if isinstance(shape.data, dict) else {}
        for _ in range(self.rng.randint(1, 4)):
            key = self.rng.choice([*data.keys(), "Key", "CreatedTime", "Host", "Vm", "Extra"])
            data[key] = self.rng.choice(
                [
                    None,
                    "",
                    "abc",
                    -1,
                    2**80,
                    1e308,
                    [],
                    {},
                    [1, [2, [3]]],
                    True,
                    {"Name": 5, "Host": {"Type": None, "Value": []}},
                    "2024-13-45T99:99:99Z",
                    "\u0000\ud7ff\u2028",
                    {"_typeName": "Nope"},
                ]
            )
        document = {**shape.attributes, "data": data}
        return Hostile(
            "mutated-data", "POST", "/", [], json.dumps(document).encode(), must_reject=False
        )

    def bad_data(self) -> Hostile:
        shape = self.shape()
        data = self.rng.choice([None, "", [], 5, "plain text", [shape.data], "[" * 3000])
        headers, _ = _binary(shape)
        if self.rng.random() < 0.5:
            body = json.dumps({**shape.attributes, "data": data}).encode()
            return Hostile("bad-data", "POST", "/", [], body, must_reject=data in (None, ""))
        raw = data.encode() if isinstance(data, str) else json.dumps(data).encode()
        return Hostile(
            "bad-binary-data", "POST", "/", headers, raw, must_reject=not isinstance(data, list)
        )

    def byte_flips(self) -> Hostile:
        shape = self.shape()
        body = bytearray(_structured(shape))
        for _ in range(self.rng.randint(1, 8)):
            body[self.rng.randrange(len(body))] = self.rng.getrandbits(8)
        return Hostile("byte-flips", "POST", "/", [], bytes(body), must_reject=False)

    def ten_mb(self) -> Hostile:
        headers = self.rng.choice([[], [(b"content-type", b"application/cloudevents+json")]])
        return Hostile("10MB", "POST", "/", headers, TEN_MB)


def check(
    hostile: Hostile,
    answer: Answer,
    where: str,
    seen: Counter[tuple[str, int]],
    *,
    openfaas: bool = False,
) -> None:
    """The answer obeys the status policy for this hostile request; counted in ``seen``.

    ``openfaas``: the OpenFaaS handler reads a JSON object body as the structured event
    whatever ``Content-Type`` says (``curl -d``, ``faas-cli invoke``), so a structured event
    under a wrong content type is a valid delivery there.
    """
    status, headers, body = answer
    seen[hostile.kind.split("-without-")[0], status] += 1
    context = f"{where} seed={SEED} {hostile!r} -> {status} {body[:200]!r}"
    assert status != 500, context
    lenient = openfaas and hostile.kind == "wrong-content-type" and hostile.body[:1] == b"{"
    if hostile.kind == "10MB":
        assert status == 413, context
    elif hostile.method not in ("POST",):
        assert status == 405, context
    elif hostile.must_reject and not lenient:
        assert status in (400, 413), context
    else:
        assert status in (200, 204, 400), context
    if status >= 400:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        assert content_type.startswith("text/plain"), context
        if hostile.method != "HEAD":
            assert body.endswith(b"\n"), context
            assert body.count(b"\n") == 1, context
            assert len(body.strip()) > 3, context


def check_coverage(seen: Counter[tuple[str, int]], *, big: bool = True) -> None:
    """Every kind of hostile input was sent, and 400, 405 and 413 all came back."""
    kinds = {kind for kind, _ in seen}
    expected = {
        "random-bytes",
        "truncated-json",
        "truncated-xml",
        "wrong-content-type",
        "binary",
        "structured",
        "bad-percent",
        "non-utf8-header",
        "empty-post",
        "bad-type",
        "bad-batch",
        "mutated-data",
        "byte-flips",
    }
    assert expected <= kinds, sorted(expected - kinds)
    assert any(kind.startswith("method-") for kind in kinds)
    statuses = {status for _, status in seen}
    assert {400, 405} <= statuses, statuses
    if big:
        assert 413 in statuses, statuses


def fuzz_router() -> Router:
    """Handlers that touch the event the way user code does, and never raise."""
    router = Router()

    @router.on("*")
    def everything(event: Any, ctx: Any) -> None:
        host = getattr(event, "host", None)
        getattr(host, "name", None)
        getattr(event, "key", None)
        getattr(event, "created_time", None)

    @router.on("*")
    async def everything_async(event: Any) -> None:
        getattr(event, "full_formatted_message", None)

    return router


@pytest.fixture
def decoder_bugs(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Records of exceptions other than InvalidEvent escaping the decoder or a handler."""
    caplog.set_level(logging.ERROR, logger="veba_sdk")
    records: list[logging.LogRecord] = []
    yield records
    records.extend(r for r in caplog.records if r.levelno >= logging.ERROR)
    assert not records, f"seed={SEED}: " + "; ".join(r.getMessage() for r in records[:5])


def _valid_request() -> tuple[list[tuple[bytes, bytes]], bytes]:
    return _binary(SHAPES[8])


# -- in-process bulk -----------------------------------------------------------------------------


def test_asgi_app_and_func_entry_point(decoder_bugs: list[logging.LogRecord]) -> None:
    rng = random.Random(SEED)
    generate = Generator(rng)
    router = fuzz_router()
    app = knative.asgi(router)
    function = knative.new(router)

    async def via_new(scope: Any, receive: Any, send: Any) -> None:
        await function.handle(scope, receive, send)

    seen: Counter[tuple[str, int]] = Counter()

    async def run() -> int:
        sent = 0
        valid_headers, valid_body = _valid_request()
        for index in range(PER_ADAPTER + PER_ADAPTER // 5):
            target, where = (via_new, "new") if index % 6 == 5 else (app, "asgi")
            hostile = generate()
            answer = await asgi_request(
                target,
                hostile.method,
                hostile.path,
                hostile.headers,
                hostile.body,
                chunk=rng.choice([7, 4096, 1 << 16]),
            )
            check(hostile, answer, where, seen)
            sent += 1
            if index % 1000 == 999:
                status, _, _ = await asgi_request(app, "POST", "/", valid_headers, valid_body)
                assert status == 204, f"seed={SEED}"
        return sent

    assert asyncio.run(run()) >= PER_ADAPTER
    check_coverage(seen)


def test_wsgi_app(decoder_bugs: list[logging.LogRecord]) -> None:
    rng = random.Random(SEED + 1)
    generate = Generator(rng)
    app = knative.wsgi(fuzz_router())
    valid_headers, valid_body = _valid_request()
    seen: Counter[tuple[str, int]] = Counter()
    for index in range(PER_ADAPTER):
        hostile = generate()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in hostile.headers]
        answer = wsgi_request(
            app, hostile.method, hostile.path, headers, hostile.body, send_length=rng.random() < 0.8
        )
        check(hostile, answer, "wsgi", seen)
        if index % 1000 == 999:
            status, _, _ = wsgi_request(
                app,
                "POST",
                "/",
                [(k.decode(), v.decode()) for k, v in valid_headers],
                valid_body,
            )
            assert status == 204, f"seed={SEED}"
    check_coverage(seen)


@dataclass
class _Event:
    body: bytes
    headers: dict[str, str]
    method: str
    path: str
    query: dict[str, str]


def test_openfaas_handler(decoder_bugs: list[logging.LogRecord]) -> None:
    rng = random.Random(SEED + 2)
    generate = Generator(rng)
    handle = openfaas.handler(fuzz_router())
    valid_headers, valid_body = _valid_request()
    seen: Counter[tuple[str, int]] = Counter()
    for index in range(PER_ADAPTER):
        hostile = generate()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in hostile.headers}
        result = handle(_Event(hostile.body, headers, hostile.method, hostile.path, {}), None)
        answer = (result["statusCode"], result["headers"], result["body"].encode("utf-8"))
        check(hostile, answer, "openfaas", seen, openfaas=True)
        if index % 1000 == 999:
            event = _Event(
                valid_body, {k.decode(): v.decode() for k, v in valid_headers}, "POST", "/", {}
            )
            assert handle(event, None)["statusCode"] == 204, f"seed={SEED}"
    check_coverage(seen)


# -- a share over real HTTP --------------------------------------------------------------------


def _over_http(base: str, seed: int, count: int, *, openfaas: bool = False, **options: Any) -> None:
    rng = random.Random(seed)
    generate = Generator(rng, http_safe=True, big=False, **options)
    seen: Counter[tuple[str, int]] = Counter()
    with httpx.Client(timeout=20.0) as client:
        for index in range(count):
            hostile = generate() if index % 50 else generate.ten_mb()
            response = client.request(
                hostile.method, base + hostile.path, headers=hostile.headers, content=hostile.body
            )
            answer = (response.status_code, dict(response.headers), response.content)
            check(hostile, answer, base, seen, openfaas=openfaas)
        headers, body = _valid_request()
        response = client.post(base + "/", headers=headers, content=body)
        assert response.status_code == 200, f"seed={seed} {response.text}"
        assert response.json()["name"] == "EnteredMaintenanceModeEvent"
    check_coverage(seen)


@pytest.fixture(scope="module")
def uvicorn_url() -> Iterator[str]:
    """knative.asgi under uvicorn."""
    port = free_port()
    argv = uvicorn_argv("_http_apps:app", port)
    with running(argv, port) as url:
        yield url


@pytest.fixture(scope="module")
def gunicorn_url() -> Iterator[str]:
    """knative.wsgi under gunicorn."""
    port = free_port()
    argv = gunicorn_argv("_http_apps:wsgi_app", port)
    with running(argv, port) as url:
        yield url


@pytest.fixture(scope="module")
def waitress_url() -> Iterator[str]:
    """openfaas.handler in the python3-http template under waitress."""
    port = free_port()
    with running([PYTHON, str(HERE / "_openfaas_app.py"), str(port)], port) as url:
        yield url


def test_uvicorn_over_http(uvicorn_url: str) -> None:
    _over_http(uvicorn_url, SEED + 3, OVER_HTTP)


def test_gunicorn_over_http(gunicorn_url: str) -> None:
    _over_http(gunicorn_url, SEED + 4, OVER_HTTP)


def test_waitress_openfaas_over_http(waitress_url: str) -> None:
    # Flask answers OPTIONS itself, before the template's route calls handle().
    methods = ("GET", "HEAD", "PUT", "DELETE", "PATCH")
    _over_http(waitress_url, SEED + 5, OVER_HTTP, openfaas=True, methods=methods)
