"""The wire vocabulary: every fact about what VEBA's producers and the platforms put on the wire.

One place for the CloudEvent ``type`` prefixes, the event categories and producers, the media
types, the size limits, and the two small encodings every part shares (event times, and
CloudEvents header values). The rest of the package imports these names instead of spelling the
facts out; ``tests/test_architecture.py`` checks that nothing else does.

This module imports nothing of the package, so any module may use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "BATCH_MEDIA_TYPE",
    "CATEGORIES",
    "CATEGORY_FOR_CLASS",
    "CLASS_FOR_CATEGORY",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BODY",
    "HORIZON_NAME_PREFIX",
    "HORIZON_ROUTER_PREFIX",
    "HORIZON_SOURCE_PREFIX",
    "JSON_MEDIA_TYPE",
    "MAX_NAME",
    "OTHER_CATEGORIES",
    "PRODUCERS",
    "ROUTER_TYPE_PREFIX",
    "SPEC_VERSIONS",
    "STRUCTURED_MEDIA_TYPE",
    "TYPE_SUFFIX",
    "VCENTER_CATEGORIES",
    "VSPHERE_TYPE_PREFIX",
    "XML_MEDIA_TYPE",
    "Category",
    "Producer",
    "format_time",
    "percent_encode",
    "router_type",
    "vsphere_type",
]

# -- CloudEvent types ---------------------------------------------------------------------------

#: The event router (VEBA v0.5-v0.8): ``type`` is this and the category; the name is ``subject``.
ROUTER_TYPE_PREFIX: Final = "com.vmware.event.router/"
#: VSphereSource (appliance v0.8+): ``type`` is this, the event name and :data:`TYPE_SUFFIX`.
VSPHERE_TYPE_PREFIX: Final = "com.vmware.vsphere."
#: What every versioned VEBA CloudEvent type ends with.
TYPE_SUFFIX: Final = ".v0"
#: The event router's Horizon types: this, the lower-cased Horizon type, :data:`TYPE_SUFFIX`.
HORIZON_ROUTER_PREFIX: Final = ROUTER_TYPE_PREFIX + "horizon."
#: The appliance's Horizon source types: this, the lower-cased Horizon type, :data:`TYPE_SUFFIX`.
HORIZON_SOURCE_PREFIX: Final = "com.vmware.horizon."
#: What every Horizon event's name starts with (``horizon.VLSI_USERLOGGEDIN_REST``).
HORIZON_NAME_PREFIX: Final = "horizon."

# -- categories and producers -------------------------------------------------------------------

Category = Literal["event", "eventex", "extendedevent", "horizon", "cloudevent"]
Producer = Literal["router", "vsphere-source"]

#: The categories of vCenter events, as the event router's ``type`` and VSphereSource's
#: ``eventclass`` extension spell them.
CATEGORIES: Final[tuple[Category, ...]] = ("event", "eventex", "extendedevent")
VCENTER_CATEGORIES: Final[frozenset[str]] = frozenset(CATEGORIES)
#: Categories of events that are not vCenter's: Horizon events, and any other CloudEvent.
OTHER_CATEGORIES: Final[tuple[Category, ...]] = ("horizon", "cloudevent")
#: The class an EventEx/ExtendedEvent category's events are, and back.
CLASS_FOR_CATEGORY: Final = {"eventex": "EventEx", "extendedevent": "ExtendedEvent"}
CATEGORY_FOR_CLASS: Final = {"EventEx": "eventex", "ExtendedEvent": "extendedevent"}
#: The vCenter event producers a function can be fed by.
PRODUCERS: Final[tuple[Producer, ...]] = ("router", "vsphere-source")
#: The CloudEvents spec versions accepted (those the ``cloudevents`` SDK knows, in both majors).
SPEC_VERSIONS: Final = ("1.0", "0.3")

# -- media types --------------------------------------------------------------------------------

JSON_MEDIA_TYPE: Final = "application/json"
XML_MEDIA_TYPE: Final = "application/xml"
STRUCTURED_MEDIA_TYPE: Final = "application/cloudevents+json"
BATCH_MEDIA_TYPE: Final = "application/cloudevents-batch+json"

# -- limits -------------------------------------------------------------------------------------

#: The largest request body any adapter reads, in bytes.
DEFAULT_MAX_BODY: Final = 1 << 20
#: The most events one batch request may carry. No VEBA producer sends batches; a batch's events
#: run one after another, so this bounds what one request can make a server do.
DEFAULT_MAX_BATCH: Final = 100
#: The longest event name (class name or EventEx/ExtendedEvent type id) accepted, in characters.
#: The longest real one is 79; names come from the wire and are cached, so longer are refused.
MAX_NAME: Final = 256


def router_type(category: str) -> str:
    """The event router's CloudEvent ``type`` for a category (``com.vmware.event.router/event``)."""
    return ROUTER_TYPE_PREFIX + category


def vsphere_type(name: str) -> str:
    """VSphereSource's CloudEvent ``type`` for an event name (``com.vmware.vsphere.<name>.v0``)."""
    return VSPHERE_TYPE_PREFIX + name + TYPE_SUFFIX


# -- encodings ----------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """An event time as producers write it: UTC, ``Z``, microseconds only when there are any.

    A naive datetime is taken to be UTC already (vCenter's times are UTC), never local time.
    """
    # datetime is imported here, not by the module: every import of the package loads this
    # module, and a Lambda cold start that formats no time should not pay for datetime.
    from datetime import UTC

    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def percent_encode(value: str) -> str:
    """Encode a ``ce-`` header value as the CloudEvents HTTP binding asks (3.1.3.2).

    Space, double quote, percent and everything outside printable ASCII is percent-encoded
    (as UTF-8); everything else is kept.
    """
    if value.isascii() and value.isprintable() and not any(c in value for c in ' "%'):
        return value
    out: list[str] = []
    for char in value:
        if char in ' "%' or not ("!" <= char <= "~"):
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        else:
            out.append(char)
    return "".join(out)
