"""What the vROps stand-in stores and records, and the error its endpoints raise."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any, Final, Literal

import attrs
import httpx

from veba_sdk._errors import VebaError

__all__ = [
    "TOKEN_EXPIRED_CODE",
    "AlertRecord",
    "ApiError",
    "RecordedCall",
    "ResourceRecord",
    "ResourceStateName",
    "reply",
]

#: A ``resourceState`` (VCF Operations 9.1), as a resource may be seeded in.
ResourceStateName = Literal[
    "STOPPED",
    "STARTING",
    "STARTED",
    "STOPPING",
    "UPDATING",
    "FAILED",
    "MAINTAINED",
    "MAINTAINED_MANUAL",
    "REMOVING",
    "NOT_EXISTING",
    "NONE",
    "UNKNOWN",
]

#: apiErrorCode vROps sends with 401 for an expired or unknown token
TOKEN_EXPIRED_CODE: Final = 1512


def reply(
    status: int = 200, body: Any = None, headers: Iterable[tuple[str, str]] = ()
) -> httpx.Response:
    """A response as vROps sends it: JSON (when there is a body) with its length."""
    content = b"" if body is None else json.dumps(body).encode()
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    if body is not None:
        raw.append((b"content-type", b"application/json"))
    raw.append((b"content-length", str(len(content)).encode()))
    # A stream, not content=: the receiver reads it once (httpx's client, or the ASGI front).
    return httpx.Response(status, headers=raw, stream=httpx.ByteStream(content))


@attrs.define(kw_only=True)
class RecordedCall:
    """One request the fake answered (secrets are not recorded)."""

    method: str
    path: str
    route: str
    query: list[tuple[str, str]]
    status: int


class ApiError(VebaError):
    """An endpoint's refusal, answered as vROps' error body (never raised out of the fake)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        api_error_code: int | None = None,
        failures: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.api_error_code = api_error_code
        self.failures = failures or []

    def response(self) -> httpx.Response:
        """``{message, httpStatusCode, apiErrorCode?, validationFailures?}`` with the status."""
        body: dict[str, Any] = {"message": self.message, "httpStatusCode": self.status}
        if self.api_error_code is not None:
            body["apiErrorCode"] = self.api_error_code
        if self.failures:
            body["validationFailures"] = [
                {"failureMessage": f, "violationPath": ""} for f in self.failures
            ]
        return reply(self.status, body)


@attrs.define(kw_only=True)
class ResourceRecord:
    """A stored resource."""

    id: str
    name: str
    adapter_kind: str
    resource_kind: str
    identifiers: dict[str, str]
    created_ms: int
    state: str = "STARTED"
    maintained_until_ms: int | None = None
    properties: dict[str, Any] = attrs.field(factory=dict)
    adapter_instance_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))


@attrs.define(kw_only=True)
class AlertRecord:
    """A stored alert."""

    id: str
    resource_id: str
    name: str
    level: str
    start_ms: int
    status: str = "ACTIVE"
    control_state: str = "OPEN"
    suspend_until_ms: int = 0
    cancel_ms: int = 0
    notes: list[dict[str, Any]] = attrs.field(factory=list)
