"""The key an event is remembered by: the same for every delivery of one event.

The event router gives every delivery a fresh random CloudEvent ``id`` (and delivers an event
again, with a new id, when it restarts from its checkpoint), so the CloudEvent id is no
identity for a vCenter event. What survives every producer shape (the router's binary,
structured, OpenFaaS and EventBridge forms, the VSphereSource's JSON and XML, whose ``id`` is
the key) is in the event itself: its vCenter ``Key``, with its ``CreatedTime`` so a vCenter
whose key counter starts again (a restore, a rebuilt database) is not taken for a duplicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..wire import VCENTER_CATEGORIES

if TYPE_CHECKING:
    from ..events import Envelope

__all__ = ["MAX_KEY", "idempotency_key"]

MAX_KEY = 512  # longer idempotency keys are stored as their SHA-256


def idempotency_key(envelope: Envelope) -> str:
    """The store key of an event: ``source`` and the producer-independent id.

    * vCenter events: ``<source>#<Key>@<CreatedTime>``, from the event's data, whichever
      producer delivered it (the router's random CloudEvent ids never enter it);
    * Horizon events: ``<source>#horizon:<id>``, Horizon's own event id;
    * any other CloudEvent (webhooks): ``<source>#<id>``, which the CloudEvents spec makes
      unique per event (a broker's redelivery keeps it).

    A vCenter event without a ``Key`` falls back to the CloudEvent id. A key over 512
    characters (never a real one: a URL and a number) is ``"sha256:"`` and the hex digest of
    it, so what a store keeps per event does not grow with the event.
    """
    event = envelope.event
    category = envelope.category
    source = envelope.attributes.get("source")
    key = None
    if category in VCENTER_CATEGORIES:
        key = getattr(event, "key", None)
        if key is not None and key != "":
            created = getattr(event, "created_time", None)
            if created is not None:
                key = f"{key}@{created.isoformat()}"
    elif category == "horizon":
        horizon_id = getattr(event, "id", None)
        if horizon_id is not None:
            key = f"horizon:{horizon_id}"
    if key is None or key == "":
        key = envelope.attributes.get("id")
    text = f"{source}#{key}"
    if len(text) <= MAX_KEY:
        return text
    # source and id come from the wire, and stores keep keys for their TTL: a long key is
    # stored by its digest, so an event's size is not what a store's memory holds.
    import hashlib

    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
