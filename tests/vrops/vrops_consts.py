"""Credentials and settings shared by the vROps tests (a module name no other test dir uses)."""

from __future__ import annotations

from veba_sdk.vrops import RetryPolicy

USERNAME = "svc-veba"
PASSWORD = "S3cr3t-Passw0rd-vrops!"
HOST = "http://vrops.test"

#: Retries that do not slow the suite down (Retry-After is still honoured).
FAST_RETRY = RetryPolicy(
    attempts=4, timeout=10.0, wait_initial=0.001, wait_max=0.01, wait_jitter=0.001
)
