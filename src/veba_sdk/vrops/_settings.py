"""Client settings from the environment and from secret files (OpenFaaS, Kubernetes)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from veba_sdk.vrops._errors import VropsError
from veba_sdk.vrops._retry import RetryPolicy

__all__ = ["DEFAULT_SECRETS_DIR", "ENV_NAMES", "parse_verify", "settings_from_env"]

DEFAULT_SECRETS_DIR: Final = "/var/openfaas/secrets"

#: Setting -> names accepted, first wins: our own, then VEBA users' secret keys.
ENV_NAMES: Mapping[str, tuple[str, ...]] = {
    "host": ("VROPS_HOST", "vropsFqdn", "VROPS_SERVER"),
    "username": ("VROPS_USERNAME", "vropsUser", "VROPS_USER"),
    "password": ("VROPS_PASSWORD", "vropsPassword", "VROPS_PASS"),
    "auth_source": ("VROPS_AUTH_SOURCE", "vropsAuthSource"),
    "verify": ("VROPS_VERIFY", "vropsVerify"),
    "scheme": ("VROPS_AUTH_SCHEME",),
    "retry_attempts": ("VROPS_RETRY_ATTEMPTS",),
    "retry_timeout": ("VROPS_RETRY_TIMEOUT",),
}


def parse_verify(value: str) -> bool | str:
    """``true``/``false`` (and yes/no/1/0), or a CA bundle path."""
    low = value.strip().lower()
    if low in {"1", "true", "yes", "on", ""}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    return value.strip()


def settings_from_env(
    environ: Mapping[str, str] | None = None, secrets_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Client settings from environment variables and secret files.

    For each setting the names in :data:`ENV_NAMES` are tried in order: the
    environment variable itself, then ``<NAME>_FILE`` (a path to read), then a
    file of that name in the secrets directory (``secrets_dir``, else
    ``$VEBA_SECRETS_DIR``, else ``/var/openfaas/secrets``; a Kubernetes secret
    volume works the same way).
    """
    env = os.environ if environ is None else environ
    directory = Path(secrets_dir or env.get("VEBA_SECRETS_DIR") or DEFAULT_SECRETS_DIR)
    out: dict[str, Any] = {}
    for setting, names in ENV_NAMES.items():
        value = _lookup(env, directory, names)
        if value is not None:
            out[setting] = value
    missing = [s for s in ("host", "username", "password") if not out.get(s)]
    if missing:
        wanted = ", ".join("/".join(ENV_NAMES[m][:2]) for m in missing)
        raise VropsError(f"vROps settings missing: {wanted} (environment or {directory})")
    if "verify" in out:
        out["verify"] = parse_verify(out["verify"])
    budget = {k: out.pop(f"retry_{k}") for k in ("attempts", "timeout") if f"retry_{k}" in out}
    if budget:
        default = RetryPolicy()
        try:
            out["retry"] = RetryPolicy(
                attempts=int(budget.get("attempts", default.attempts)),
                timeout=float(budget.get("timeout", default.timeout)),
            )
        except ValueError:
            raise VropsError(
                "VROPS_RETRY_ATTEMPTS must be an integer and VROPS_RETRY_TIMEOUT seconds"
            ) from None
    return out


def _lookup(env: Mapping[str, str], directory: Path, names: Sequence[str]) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value.strip()
        file_name = env.get(name + "_FILE")
        if file_name:
            return Path(file_name).read_text(encoding="utf-8").strip()
    for name in names:
        try:
            text = (directory / name).read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if text:
            return text
    return None
