"""A real Docker engine for the image tests: the daemon, the base image, builds and containers.

* :func:`ensure_daemon` uses the daemon that answers, or starts ``dockerd --iptables=false
  --bridge=none`` (no host network changes: every build and container here runs with
  ``--network host`` and listens on 127.0.0.1 only) and says so, so the caller stops it.
* :func:`ensure_base_image` makes ``python:3.11-slim`` when the engine has no such tag: Docker
  Hub is out of reach, so a Debian bookworm root by ``scripts/rootfs.sh`` (cached under
  ``.matrix/``) is imported and finished by ``base.Dockerfile``.
* Builds use the classic builder (Debian's docker.io has no buildx) with ``--network host``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "python:3.11-slim"
ROOTFS_IMAGE = "veba-rootfs:bookworm"
ROOTFS_DIR = ROOT / ".matrix" / "rootfs-bookworm"
HERE = Path(__file__).resolve().parent


class DockerUnavailable(Exception):
    """No Docker engine answers and none could be started; the message says why."""


def docker(
    *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the docker client; raises with its output when ``check`` and it fails."""
    environment = {**os.environ, "DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"}
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, env=environment
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"docker {' '.join(args[:3])} ... failed:\n{result.stdout}{result.stderr}"
        )
    return result


def _answers() -> bool:
    try:
        return (
            docker("version", "--format", "{{.Server.Version}}", timeout=20, check=False).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_daemon(log: Path) -> subprocess.Popen[bytes] | None:
    """A Docker daemon that answers; returns the one started here (the caller stops it), or None.

    Raises:
        DockerUnavailable: no docker client or dockerd, or the daemon started here never answered.
    """
    if shutil.which("docker") is None:
        raise DockerUnavailable("no docker client on PATH (install Debian's docker.io)")
    if _answers():
        return None
    dockerd = shutil.which("dockerd") or (
        "/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None
    )
    if dockerd is None:
        raise DockerUnavailable("no Docker daemon answers and dockerd is not installed")
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [dockerd, "--iptables=false", "--bridge=none"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise DockerUnavailable(f"dockerd exited with {process.returncode}:\n{tail}")
        if _answers():
            return process
        time.sleep(0.5)
    stop_daemon(process)
    raise DockerUnavailable("dockerd started but did not answer within 60 s")


def stop_daemon(process: subprocess.Popen[bytes]) -> None:
    """Stop a daemon that :func:`ensure_daemon` started."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def image_exists(tag: str) -> bool:
    """Whether the engine has an image with this tag."""
    return docker("image", "inspect", tag, timeout=30, check=False).returncode == 0


def ensure_base_image() -> None:
    """Make :data:`BASE_IMAGE` from a Debian root unless the engine has it (cached)."""
    if image_exists(BASE_IMAGE):
        return
    if not image_exists(ROOTFS_IMAGE):
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "rootfs.sh"), "bookworm", str(ROOTFS_DIR)],
            check=True,
            timeout=900,
        )
        tar = subprocess.Popen(["tar", "-C", str(ROOTFS_DIR), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "-", ROOTFS_IMAGE],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait(timeout=60)
        if imported.returncode != 0 or tar.returncode != 0:
            raise RuntimeError(f"docker import failed: {imported.stderr}")
    with tempfile.TemporaryDirectory() as context:
        shutil.copyfile(HERE / "base.Dockerfile", Path(context) / "Dockerfile")
        shutil.copyfile("/etc/ssl/certs/ca-certificates.crt", Path(context) / "ca-certificates.crt")
        docker("build", "--network", "host", "-t", BASE_IMAGE, context, timeout=600)


def build(context: Path, tag: str, build_args: dict[str, str]) -> float:
    """``docker build`` a kit directory with ``--network host``; returns the seconds it took."""
    started = time.monotonic()
    arguments = []
    for name, value in build_args.items():
        arguments += ["--build-arg", f"{name}={value}"]
    docker(
        "build",
        "--network",
        "host",
        "--pull=false",
        *arguments,
        "-t",
        tag,
        str(context),
        timeout=900,
    )
    return time.monotonic() - started


def machine_index_args() -> dict[str, str]:
    """Build arguments that point pip in an image at the index this machine's pip uses.

    The machine's pip may use an index of its own (``PIP_INDEX_URL`` or ``global.index-url``);
    an image sees none of the machine's configuration, so it is passed on as a build argument.
    Nothing when the machine uses pip's default index (the images do too).
    """
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        result = subprocess.run(
            ["python3", "-m", "pip", "config", "get", "global.index-url"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        url = result.stdout.strip() if result.returncode == 0 else ""
    return {"PIP_INDEX_URL": url} if url.startswith(("http://", "https://")) else {}


class Container:
    """A container run detached with ``--network host``; removed on exit."""

    def __init__(
        self, image: str, *, env: dict[str, str], command: list[str] | None = None
    ) -> None:
        arguments = ["run", "-d", "--network", "host"]
        for name, value in env.items():
            arguments += ["-e", f"{name}={value}"]
        self.id = docker(*arguments, image, *(command or []), timeout=120).stdout.strip()

    def logs(self) -> str:
        """The container's stdout and stderr so far."""
        result = docker("logs", self.id, timeout=60, check=False)
        return result.stdout + result.stderr

    def running(self) -> bool:
        """Whether the container is still running."""
        state = docker(
            "inspect", "--format", "{{.State.Running}}", self.id, timeout=30, check=False
        )
        return state.stdout.strip() == "true"

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        docker("rm", "-f", self.id, timeout=60, check=False)
