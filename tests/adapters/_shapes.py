"""Every producer shape of every captured vCenter fixture, as CloudEvent attributes and data.

Shapes (DESIGN.md section 1):

* ``router-v0.5``: ``type`` ``com.vmware.event.router/<category>``, name in ``subject``, random id;
* ``router-v0.7``: the same plus ``vsphereapiversion`` and ``time`` = the vCenter ``CreatedTime``;
* ``vsphere-source``: ``type`` ``com.vmware.vsphere.<name>.v0``, ``eventclass``, id = key.

Captured structured CloudEvents are used as they are.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

EVENTS = Path(__file__).parent.parent / "fixtures" / "veba-events"
SOURCE = "https://vcsa.example.com/sdk"


@dataclass(frozen=True)
class Shape:
    """One event as one producer sends it, and what a handler must see."""

    label: str
    attributes: dict[str, str]
    data: Any
    name: str
    category: str
    producer: str

    @property
    def id(self) -> str:
        """The CloudEvent id."""
        return self.attributes["id"]

    def with_extension(self, key: str, value: str) -> Shape:
        """A copy with one more CloudEvent extension."""
        attributes = {**self.attributes, key: value}
        return Shape(self.label, attributes, self.data, self.name, self.category, self.producer)


def _data_fixtures() -> list[tuple[str, str, str, dict[str, Any]]]:
    """``(file, event name, category, data)`` of every data-only vCenter fixture."""
    found = []
    for path in sorted(EVENTS.glob("*__data-only__*.json")):
        head = path.name.split("__", 1)[0]
        if head.startswith("Horizon_"):
            continue  # Horizon audit events are not vCenter events
        data = json.loads(path.read_text())
        if head.startswith("EventEx_"):
            name, category = data["EventTypeId"], "eventex"
        else:
            name, category = head.split("_", 1)[0], "event"
        found.append((path.name, name, category, data))
    return found


def _structured_fixtures() -> list[tuple[str, dict[str, Any]]]:
    """``(file, structured CloudEvent)`` of every captured structured vCenter CloudEvent."""
    found = []
    for path in sorted(EVENTS.glob("*__structured-ce*.json")):
        document = json.loads(path.read_text())
        document = document.get("event", document)  # one README wraps it in .event
        found.append((path.name, document))
    return found


def producer_shapes() -> list[Shape]:
    """Every data fixture in the three producer shapes, and every captured CloudEvent."""
    shapes = []
    for file, name, category, data in _data_fixtures():
        stem = file.split("__", 1)[0]
        router = {
            "specversion": "1.0",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, file)),
            "source": SOURCE,
            "type": f"com.vmware.event.router/{category}",
            "subject": name,
        }
        shapes.append(Shape(f"{stem}-router-v0.5", router, data, name, category, "router"))
        v07 = {**router, "vsphereapiversion": "8.0.3.0", "time": data["CreatedTime"]}
        shapes.append(Shape(f"{stem}-router-v0.7", v07, data, name, category, "router"))
        source = {
            "specversion": "1.0",
            "id": str(data["Key"]),
            "source": SOURCE,
            "type": f"com.vmware.vsphere.{name}.v0",
            "eventclass": category,
            "vsphereapiversion": "8.0.3.0",
            "time": data["CreatedTime"],
        }
        shapes.append(
            Shape(f"{stem}-vsphere-source", source, data, name, category, "vsphere-source")
        )
    for file, document in _structured_fixtures():
        attributes = {k: str(v) for k, v in document.items() if k != "data"}
        ce_type = attributes["type"]
        if ce_type.startswith("com.vmware.event.router/"):
            name, producer = attributes["subject"], "router"
        else:
            name, producer = ce_type[len("com.vmware.vsphere.") : -len(".v0")], "vsphere-source"
        category = attributes.get("eventclass", ce_type.rsplit("/", 1)[-1])
        shapes.append(
            Shape(
                f"captured-{file.split('__structured', 1)[0]}",
                attributes,
                document["data"],
                name,
                category,
                producer,
            )
        )
    return shapes


def sdk_request(shape: Shape, mode: str) -> tuple[dict[str, str], bytes]:
    """The HTTP request the ``cloudevents`` SDK makes for a shape, ``binary`` or ``structured``."""
    event = CloudEvent(dict(shape.attributes), shape.data)
    if mode == "binary":
        headers, body = to_binary(event)
    else:
        headers, body = to_structured(event)
    return dict(headers), body


def openfaas_body(shape: Shape) -> bytes:
    """What VEBA's OpenFaaS processor posts: the structured JSON, no CloudEvents content type."""
    return json.dumps({**shape.attributes, "data": shape.data}).encode()


def minimal(name: str, category: str = "event", **attributes: str) -> Shape:
    """A small valid VSphereSource event of any class (for events no route selects)."""
    data = {
        "Key": 4242,
        "ChainId": 4242,
        "CreatedTime": "2024-05-06T07:08:09.123Z",
        "UserName": "VSPHERE.LOCAL\\op",
        "FullFormattedMessage": "test",
    }
    base = {
        "specversion": "1.0",
        "id": "4242",
        "source": SOURCE,
        "type": f"com.vmware.vsphere.{name}.v0",
        "eventclass": category,
        **attributes,
    }
    return Shape(name, base, data, name, category, "vsphere-source")


ENTER_XML = (
    b'<EnteredMaintenanceModeEvent xmlns="urn:vim25" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    b"<key>42</key><chainId>41</chainId><createdTime>2024-01-02T03:04:05.123456789Z"
    b"</createdTime><userName>root</userName><host><name>esx01</name>"
    b'<host type="HostSystem">host-19</host></host>'
    b"<fullFormattedMessage>Host esx01 entered maintenance mode</fullFormattedMessage>"
    b"</EnteredMaintenanceModeEvent>"
)
