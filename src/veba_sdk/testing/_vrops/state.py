"""The stand-in's state: credentials, tokens, resources, alerts, and what it counted.

Also the JSON the API shows of a resource or an alert, computed from the state at the time
it is asked (a timed maintenance or a suspension ends by itself).
"""

from __future__ import annotations

import collections
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from veba_sdk.testing._vrops.records import (
    TOKEN_EXPIRED_CODE,
    AlertRecord,
    ApiError,
    RecordedCall,
    ResourceRecord,
)

__all__ = ["State"]

SCHEMES = ("vRealizeOpsToken", "OpsToken")


class State:
    """Everything the fake knows; guarded by :attr:`lock` (re-entrant)."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        auth_source: str | None,
        token_lifetime: float,
        clock: Callable[[], float],
    ) -> None:
        self.username = username
        self.__password = password
        self.auth_source = auth_source
        self.token_lifetime = token_lifetime
        self.clock = clock
        self.lock = threading.RLock()
        self.resources: dict[str, ResourceRecord] = {}
        self.alerts: dict[str, AlertRecord] = {}
        self.tokens: dict[str, int] = {}  # token -> validity ms
        self.online = True
        self.next_moref = 19
        self.events: list[dict[str, Any]] = []
        self.issued_tokens: list[str] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.calls: list[RecordedCall] = []
        self.violations: list[str] = []

    @property
    def password(self) -> str:
        """The one password that acquires a token."""
        return self.__password

    def now_ms(self) -> int:
        """The clock, in epoch milliseconds."""
        return int(self.clock() * 1000)

    # -- tokens ----------------------------------------------------------------

    def credentials_match(self, body: dict[str, Any]) -> bool:
        """Whether an acquire body names the fake's user, password and auth source."""
        source_ok = self.auth_source is None or body.get("authSource") == self.auth_source
        return (
            body["username"] == self.username and body["password"] == self.__password and source_ok
        )

    def issue_token(self) -> tuple[str, int]:
        """A new token and its validity (epoch ms)."""
        token = f"{uuid.uuid4()}::{uuid.uuid4()}"
        validity = self.now_ms() + int(self.token_lifetime * 1000)
        self.tokens[token] = validity
        self.issued_tokens.append(token)
        return token, validity

    def check_token(self, header: str | None) -> None:
        """Accept an ``Authorization`` header's live token (sliding its lifetime) or refuse."""
        if not header:
            raise ApiError(401, "Authentication required")
        scheme, _, token = header.partition(" ")
        if scheme not in SCHEMES:
            raise ApiError(401, f"Unsupported authorization scheme {scheme!r}")
        now = self.now_ms()
        with self.lock:
            validity = self.tokens.get(token.strip())
            if validity is None or validity <= now:
                raise ApiError(
                    401,
                    "Invalid or expired authentication token",
                    api_error_code=TOKEN_EXPIRED_CODE,
                )
            # Sliding lifetime: every use extends it.
            self.tokens[token.strip()] = now + int(self.token_lifetime * 1000)

    # -- resources and alerts ----------------------------------------------------

    def resource(self, rid: str) -> ResourceRecord:
        """The resource with this id, or the API's 404."""
        res = self.resources.get(rid)
        if res is None:
            raise ApiError(404, f"No resource found with id {rid}")
        return res

    def find(self, name_or_id: str) -> ResourceRecord:
        """The resource with this id, or the only one with this name (``KeyError`` otherwise)."""
        with self.lock:
            if name_or_id in self.resources:
                return self.resources[name_or_id]
            named = [r for r in self.resources.values() if r.name == name_or_id]
        if len(named) != 1:
            raise KeyError(f"{len(named)} resources named {name_or_id!r}")
        return named[0]

    def expire_maintenance(self, res: ResourceRecord) -> None:
        """End a timed maintenance whose end has passed."""
        if (
            res.state == "MAINTAINED"
            and res.maintained_until_ms is not None
            and res.maintained_until_ms <= self.now_ms()
        ):
            res.state, res.maintained_until_ms = "STARTED", None

    def resource_json(self, res: ResourceRecord) -> dict[str, Any]:
        """A ``resource`` object as the API shows it."""
        self.expire_maintenance(res)
        return {
            "creationTime": res.created_ms,
            "resourceKey": {
                "name": res.name,
                "adapterKindKey": res.adapter_kind,
                "resourceKindKey": res.resource_kind,
                "resourceIdentifiers": [
                    {
                        "identifierType": {
                            "name": k,
                            "dataType": "STRING",
                            "isPartOfUniqueness": k != "VMEntityName",
                        },
                        "value": v,
                    }
                    for k, v in res.identifiers.items()
                ],
            },
            "resourceStatusStates": [
                {
                    "adapterInstanceId": res.adapter_instance_id,
                    "resourceState": res.state,
                    "resourceStatus": "DATA_RECEIVING",
                    "statusMessage": "",
                }
            ],
            "resourceHealth": "GREEN",
            "resourceHealthValue": 100.0,
            "dtEnabled": True,
            "identifier": res.id,
        }

    def alert_json(self, a: AlertRecord) -> dict[str, Any]:
        """An ``alert`` object as the API shows it (a suspension past its end is lifted)."""
        now = self.now_ms()
        if a.control_state == "SUSPENDED" and a.suspend_until_ms <= now:
            a.control_state, a.suspend_until_ms = "OPEN", 0
        return {
            "alertId": a.id,
            "resourceId": a.resource_id,
            "alertLevel": a.level,
            "type": "16",
            "subType": "19",
            "status": a.status,
            "controlState": a.control_state,
            "alertDefinitionId": "AlertDefinition-VMWARE-" + re.sub(r"\W+", "", a.name),
            "alertDefinitionName": a.name,
            "startTimeUTC": a.start_ms,
            "updateTimeUTC": a.start_ms,
            "cancelTimeUTC": a.cancel_ms,
            "suspendUntilTimeUTC": a.suspend_until_ms,
        }
