"""The option strings the vROps client takes, as :data:`typing.Literal` types.

Values are those of the VCF Operations 9.1 OpenAPI spec; where the client upper-cases a value
before sending it (severities, event types), the lower-case spelling is accepted too.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["EventType", "Scheme", "Severity"]

#: The ``Authorization`` scheme of a token: ``vRealizeOpsToken`` (8.x, 9.x) or ``OpsToken``
#: (8.17 and later).
Scheme = Literal["vRealizeOpsToken", "OpsToken"]

#: An event's ``severity``, and an alert's criticality (``alertCriticality``).
Severity = Literal[
    "UNKNOWN",
    "NONE",
    "INFORMATION",
    "WARNING",
    "IMMEDIATE",
    "CRITICAL",
    "AUTO",
    "unknown",
    "none",
    "information",
    "warning",
    "immediate",
    "critical",
    "auto",
]

#: An event's ``eventType``.
EventType = Literal[
    "CHANGE",
    "NOTIFICATION",
    "RESOURCE_DOWN",
    "SYSTEM_DEGRADATION",
    "AVAILABILITY_DOWN",
    "AVAILABILITY_EXCEPTION",
    "AVAILABILITY_NOT_COLLECTING",
    "HARD_THRESHOLD",
    "DIAGNOSTIC",
    "change",
    "notification",
    "resource_down",
    "system_degradation",
    "availability_down",
    "availability_exception",
    "availability_not_collecting",
    "hard_threshold",
    "diagnostic",
]
