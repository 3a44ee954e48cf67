"""Per-event context handed to handlers, and reply events."""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events import Envelope

__all__ = ["Context", "Reply"]

_CORE_ATTRIBUTES = frozenset(
    {"id", "source", "specversion", "type", "subject", "time", "datacontenttype", "dataschema"}
)
logger = logging.getLogger("veba_sdk")

#: While a handler runs, the event and the handler's name; set by the router only once
#: correlation is on (:func:`veba_sdk.logging.setup` with JSON, or a ``JsonFormatter`` made).
handler_context: ContextVar[tuple[Envelope, str] | None] = ContextVar("veba_handler", default=None)


class EventLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """``ctx.logger``: records carry the event's correlation fields as attributes.

    ``event_id``, ``event``, ``event_type``, ``event_subject``, ``event_source`` (and
    ``handler`` while correlation is on); a call's own ``extra=`` fields are kept beside them.
    The fields are added only to records that are emitted.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        """Add the event's fields to the record's ``extra``."""
        fields = dict(self.extra or {})
        current = handler_context.get()
        if current is not None:
            fields["handler"] = current[1]
        own = kwargs.get("extra")
        if own:
            fields.update(own)
        kwargs["extra"] = fields
        return msg, kwargs


class Reply:
    """A response CloudEvent a handler emits (Knative replies it to the broker).

    Build one with :meth:`Context.reply`, return one from a handler, or return a
    ``cloudevents`` SDK event.
    """

    __slots__ = ("data", "extensions", "source", "subject", "type")

    def __init__(
        self,
        *,
        type: str,
        data: Any = None,
        source: str = "veba-sdk",
        subject: str | None = None,
        extensions: Mapping[str, str] | None = None,
    ) -> None:
        self.type = type
        self.data = data
        self.source = source
        self.subject = subject
        self.extensions = dict(extensions or {})

    def attributes(self, *, id: str) -> dict[str, str]:
        """The reply's CloudEvent attributes, with a given ``id``."""
        attrs = {"specversion": "1.0", "id": id, "source": self.source, "type": self.type}
        if self.subject is not None:
            attrs["subject"] = self.subject
        attrs.update(self.extensions)
        return attrs

    def to_cloudevent(self, *, id: str | None = None) -> Any:
        """This reply as a ``cloudevents`` SDK event (1.x or 2.x, whichever is installed)."""
        import uuid

        try:  # cloudevents 2.x
            from cloudevents.core.v1.event import CloudEvent as V2CloudEvent

            return V2CloudEvent(
                attributes=self.attributes(id=id or str(uuid.uuid4())), data=self.data
            )
        except ImportError:
            from cloudevents.http import CloudEvent

            return CloudEvent(self.attributes(id=id or str(uuid.uuid4())), self.data)

    @classmethod
    def from_cloudevent(cls, event: Any) -> Reply:
        """A reply from a ``cloudevents`` SDK event object."""
        get_attributes = getattr(event, "get_attributes", None)
        attributes: dict[str, Any] = dict(get_attributes()) if callable(get_attributes) else {}
        get_extensions = getattr(event, "get_extensions", None)
        if callable(get_extensions):
            attributes.update(get_extensions())
        get_data = getattr(event, "get_data", None)
        data = get_data() if callable(get_data) else getattr(event, "data", None)
        extensions = {str(k): str(v) for k, v in attributes.items() if k not in _CORE_ATTRIBUTES}
        return cls(
            type=str(attributes.get("type", "")),
            data=data,
            source=str(attributes.get("source", "veba-sdk")),
            subject=attributes.get("subject"),
            extensions=extensions,
        )

    def __repr__(self) -> str:
        return f"Reply(type={self.type!r}, source={self.source!r}, subject={self.subject!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reply):
            return NotImplemented
        return (self.type, self.data, self.source, self.subject, self.extensions) == (
            other.type,
            other.data,
            other.source,
            other.subject,
            other.extensions,
        )

    __hash__ = None  # type: ignore[assignment]


class Context:
    """What a handler knows about the event besides the typed event itself.

    Attributes:
        envelope: the decoded CloudEvent.
        platform: the platform's own context object (Lambda context, OpenFaaS context,
            the ASGI scope, ...), or ``None``.
    """

    # Built once per handled event: a slotted class, the logger made only when asked for.
    __slots__ = ("_logger", "envelope", "platform", "replies")

    def __init__(self, envelope: Envelope, platform: Any = None) -> None:
        self.envelope = envelope
        self.platform = platform
        self.replies: list[Reply] | None = None  # made on the first reply: most events have none
        self._logger: logging.LoggerAdapter[logging.Logger] | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        """Every CloudEvent attribute and extension, as sent."""
        return self.envelope.attributes

    @property
    def extensions(self) -> dict[str, Any]:
        """The CloudEvent extension attributes only (``eventclass``, ``vsphereapiversion``...)."""
        return {k: v for k, v in self.envelope.attributes.items() if k not in _CORE_ATTRIBUTES}

    @property
    def id(self) -> str:
        """The CloudEvent ``id``."""
        return self.envelope.id

    @property
    def source(self) -> str:
        """The CloudEvent ``source``: the vCenter that emitted the event."""
        return self.envelope.source

    @property
    def type(self) -> str:
        """The CloudEvent ``type`` as the producer sent it."""
        return self.envelope.type

    @property
    def subject(self) -> str | None:
        """The CloudEvent ``subject`` (the router format puts the event name there)."""
        value = self.envelope.attributes.get("subject")
        return None if value is None else str(value)

    @property
    def time(self) -> str | None:
        """The CloudEvent ``time`` attribute, as sent."""
        value = self.envelope.attributes.get("time")
        return None if value is None else str(value)

    @property
    def name(self) -> str:
        """The normalised event name: class name or EventEx/ExtendedEvent type id;
        ``horizon.<TYPE>`` for a Horizon event; the CloudEvent ``type`` for any other."""
        return self.envelope.name

    @property
    def category(self) -> str:
        """``event``, ``eventex`` or ``extendedevent``; ``horizon``; ``cloudevent`` for a
        CloudEvent that is neither vCenter's nor Horizon's (a webhook event...)."""
        return self.envelope.category

    @property
    def producer(self) -> str:
        """``router``, ``vsphere-source``, ``horizon-source`` or ``cloudevent``: which envelope
        shape the event came in."""
        return self.envelope.producer

    @property
    def data(self) -> Any:
        """The raw event data (decoded JSON mapping, or XML text)."""
        return self.envelope.data

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger (``veba_sdk``) whose records carry the event's id, name, type, subject and
        source (see :class:`EventLogger`)."""
        if self._logger is None:
            attributes = self.envelope.attributes
            self._logger = EventLogger(
                logger,
                {
                    "event_id": attributes.get("id"),
                    "event": self.name,
                    "event_type": attributes.get("type"),
                    "event_subject": attributes.get("subject"),
                    "event_source": attributes.get("source"),
                },
            )
        return self._logger

    def reply(
        self,
        *,
        type: str,
        data: Any = None,
        source: str | None = None,
        subject: str | None = None,
        extensions: Mapping[str, str] | None = None,
    ) -> Reply:
        """Emit a response CloudEvent where the platform has one (Knative replies)."""
        reply = Reply(
            type=type,
            data=data,
            source=source or "veba-sdk",
            subject=subject,
            extensions=extensions,
        )
        self.add_reply(reply)
        return reply

    def add_reply(self, reply: Reply) -> None:
        """Queue a reply event (what a handler returning a CloudEvent amounts to)."""
        if self.replies is None:
            self.replies = []
        self.replies.append(reply)

    def __repr__(self) -> str:
        return f"Context(name={self.name!r}, id={self.envelope.attributes.get('id')!r})"
