"""Fixtures for the kit tests: the checkout's wheel, a local package index, a Docker engine.

The image tests skip only when no Docker engine can be had at all (no client, no daemon and
no ``dockerd`` to start); under CI (``CI=true``) that is a failure instead, since
``scripts/test.sh`` installs docker.io.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kit_docker import (
    BASE_IMAGE,
    DockerUnavailable,
    build,
    docker,
    ensure_base_image,
    ensure_daemon,
    machine_index_args,
    stop_daemon,
)
from kit_index import PackageIndex, build_wheel

from veba_sdk.cli.new import scaffold

#: Seconds per step of the image tests, shown at the end of the run.
TIMINGS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long the base image and each kit image took to build."""
    if TIMINGS:
        terminalreporter.write_sep("-", "kit builds (seconds)")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step:<40} {seconds:6.1f}")


@pytest.fixture(scope="session")
def kit_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """veba-sdk's wheel, built from the checkout once per session."""
    started = time.monotonic()
    wheel = build_wheel(tmp_path_factory.mktemp("kit-wheel"))
    TIMINGS["wheel"] = time.monotonic() - started
    return wheel


@pytest.fixture(scope="session")
def kit_index(kit_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """A PEP 503 index on 127.0.0.1 serving the checkout's wheel, as the public index will."""
    with PackageIndex(tmp_path_factory.mktemp("kit-index"), [kit_wheel]) as index:
        yield index


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A Docker engine with the ``python:3.11-slim`` stand-in; stops a daemon it started."""
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    try:
        started = ensure_daemon(log)
    except DockerUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"docker is required in CI: {error}")
        pytest.skip(f"docker cannot be started here: {error}")
    try:
        begin = time.monotonic()
        ensure_base_image()
        TIMINGS[f"base image {BASE_IMAGE}"] = time.monotonic() - begin
        yield
    finally:
        if started is not None:
            stop_daemon(started)


@pytest.fixture(scope="session")
def kit_image(
    docker_engine: None, kit_index: PackageIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """``kit_image(target)``: the tag of that kit's image, built once per session.

    The kit is scaffolded as ``veba new`` makes it and built by its own Dockerfile with
    ``--network host``, veba-sdk coming from the local index through the Dockerfile's
    ``PIP_EXTRA_INDEX_URL`` build argument.
    """
    built: dict[str, str] = {}

    def get(target: str) -> str:
        if target not in built:
            context = tmp_path_factory.mktemp(f"kit-{target}") / "fn"
            scaffold("veba-kit-test", target, context)
            tag = f"veba-kit-{target}:test"
            args = {**machine_index_args(), "PIP_EXTRA_INDEX_URL": kit_index.url}
            TIMINGS[f"image {target}"] = build(context, tag, args)
            built[target] = tag
        return built[target]

    yield get
    for tag in built.values():
        docker("rmi", "-f", tag, check=False)
