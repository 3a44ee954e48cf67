"""The event every benchmark measures: a captured VSphereSource ``EnteredMaintenanceModeEvent``.

``FIXTURE`` is its payload file; ``HEADERS`` the binary-mode CloudEvent headers VEBA's vSphere
source sends with it (``http_load/cloudevent.lua`` sets the same for wrk).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = (
    ROOT / "tests" / "fixtures" / "veba-events"
    / "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"
)  # fmt: skip
HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "910093",
    "ce-source": "https://vcenter.local/sdk",
    "ce-type": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0",
    "ce-time": "2022-04-20T15:47:32.365Z",
    "ce-eventclass": "event",
    "ce-vsphereapiversion": "8.0.3.0",
    "content-type": "application/json",
}
