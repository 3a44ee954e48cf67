"""Fixtures for the vROps client tests: a FakeVrops, spec-checked transports, fast retries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
from spec import AsyncCheckedTransport, CheckedTransport, SpecChecker
from vrops_consts import FAST_RETRY, HOST, PASSWORD, USERNAME

from veba_sdk.testing import FakeVrops
from veba_sdk.vrops import AsyncVropsClient, VropsClient


@pytest.fixture(scope="session")
def checker_session() -> SpecChecker:
    return SpecChecker()


@pytest.fixture
def checker(checker_session: SpecChecker) -> Iterator[SpecChecker]:
    """The spec checker; the test fails if any exchange violated the 9.1 spec."""
    checker_session.violations.clear()
    checker_session.checked.clear()
    yield checker_session
    assert checker_session.violations == []


@pytest.fixture
def fake() -> Iterator[FakeVrops]:
    """A FakeVrops with the test credentials; fails the test on protocol slips."""
    f = FakeVrops(username=USERNAME, password=PASSWORD)
    yield f
    assert f.violations == []


C = TypeVar("C", VropsClient, AsyncVropsClient)


def _build(cls: type[C], transport: Any, kwargs: dict[str, Any]) -> C:
    """A client of either kind on the test credentials, fast retries unless given."""
    kwargs.setdefault("retry", FAST_RETRY)
    return cls(
        kwargs.pop("host", HOST),
        USERNAME,
        kwargs.pop("password", PASSWORD),
        transport=transport,
        **kwargs,
    )


@pytest.fixture
def make_client(fake: FakeVrops, checker: SpecChecker) -> Iterator[Callable[..., VropsClient]]:
    """Build sync clients on the fake through the spec checker; closes them after."""
    made: list[VropsClient] = []

    def make(**kwargs: Any) -> VropsClient:
        transport = CheckedTransport(kwargs.pop("transport", fake.sync_transport()), checker)
        client = _build(VropsClient, transport, kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., VropsClient]) -> VropsClient:
    return make_client()


@pytest.fixture
async def make_aclient(
    fake: FakeVrops, checker: SpecChecker
) -> AsyncIterator[Callable[..., AsyncVropsClient]]:
    """Build async clients on the fake through the spec checker; closes them after."""
    made: list[AsyncVropsClient] = []

    def make(**kwargs: Any) -> AsyncVropsClient:
        transport = AsyncCheckedTransport(kwargs.pop("transport", fake.transport()), checker)
        client = _build(AsyncVropsClient, transport, kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def no_secrets(caplog: pytest.LogCaptureFixture, fake: FakeVrops) -> Callable[..., None]:
    """``no_secrets(*objects)``: the password and every issued token appear in none of the
    objects' ``str``/``repr`` nor in any log record captured so far (DEBUG and up)."""
    caplog.set_level(logging.DEBUG)

    def check(*objects: object) -> None:
        secrets = [PASSWORD, *fake.issued_tokens]
        texts = [caplog.text]
        texts += [r.getMessage() for r in caplog.records]
        texts += [repr(r.__dict__) for r in caplog.records]
        for obj in objects:
            texts += [str(obj), repr(obj)]
            if isinstance(obj, BaseException):
                texts += [repr(obj.args)]
                cause = obj.__cause__ or obj.__context__
                if cause is not None:
                    texts += [str(cause), repr(cause)]
        for secret in secrets:
            for text in texts:
                assert secret not in text, "a secret leaked"

    return check
