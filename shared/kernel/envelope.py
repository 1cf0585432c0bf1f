"""CloudEvents 1.0 envelope in Kafka binary mode: attributes in `ce_*` headers, JSON payload.

An integrator reads our events with any Kafka client: the key is the dossier id, the
headers say what the event is, the value is the JSON of the event's pydantic model.
Reading upcasts: an event written in an older version comes out in the latest one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from shared.contracts import DomainEvent, UnknownEventVersion, event_model, read_event, upcast
from shared.contracts.values import RECORDED

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
CORE = {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_dataschema"}
# W3C trace context travels under its own header names; other extensions as ce_<name>.
TRACE_CONTEXT = {"traceparent", "tracestate"}
_NO_EXTENSION = CORE | {"content-type"}  # the headers every event has, none an extension
REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_subject", "ce_time")
_REQUIRED = frozenset(REQUIRED)


class MalformedEnvelope(ValueError):
    """A message that is not one of our events: it goes to the dead-letter topic."""


@dataclass(frozen=True)
class Envelope:
    id: UUID
    source: str
    type: str
    subject: str
    time: datetime
    dataschema: str
    data: dict[str, Any]
    extensions: Mapping[str, str] = field(default_factory=dict)
    # Its type and data are the latest version's (unwrapped with upcasting, or wrapped here):
    # reading the event upcasts nothing again.
    latest: bool = True

    @classmethod
    def read(
        cls,
        *,
        id: UUID,
        source: str,
        type: str,
        subject: str,
        time: datetime,
        dataschema: str,
        data: dict[str, Any],
        extensions: Mapping[str, str],
        latest: bool,
    ) -> "Envelope":
        """An envelope read from a record: the same as `Envelope(...)`, made without the frozen
        `__init__`'s one set-attribute call per field (a rebuild reads millions)."""
        envelope = object.__new__(cls)
        envelope.__dict__.update(
            id=id,
            source=source,
            type=type,
            subject=subject,
            time=time,
            dataschema=dataschema,
            data=data,
            extensions=extensions,
            latest=latest,
        )
        return envelope

    def headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.id),
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_dataschema": self.dataschema,
            "content-type": CONTENT_TYPE,
        }
        for name, value in self.extensions.items():
            headers[name if name in TRACE_CONTEXT else f"ce_{name}"] = value
        return headers

    def value(self) -> bytes:
        return orjson.dumps(self.data)

    def event(self) -> DomainEvent:
        """The typed event; raises MalformedEnvelope when the payload breaks its contract."""
        try:
            if self.latest:
                return event_model(self.type).model_validate(self.data, context=RECORDED)
            return read_event(self.type, self.data)
        except Exception as error:  # pydantic.ValidationError or UnknownEventType
            raise MalformedEnvelope(f"{self.type}: {error}") from error


def wrap(
    event: DomainEvent,
    *,
    event_id: UUID,
    source: str,
    time: datetime,
    extensions: Mapping[str, str] | None = None,
    data: dict[str, Any] | None = None,
) -> Envelope:
    """`data`: the event's `model_dump(mode="json")`, when the caller made it already."""
    return Envelope(
        id=event_id,
        source=source,
        type=event.cloud_type(),
        subject=str(event.dossier_id),
        time=time,
        dataschema=event.dataschema(),
        data=event.model_dump(mode="json") if data is None else data,
        extensions=dict(extensions or {}),
    )


def unwrap(
    headers: Iterable[tuple[str, bytes]], value: bytes | None, *, as_written: bool = False
) -> Envelope:
    """Rebuild the envelope from a Kafka record's headers and value, in the latest version.

    An event written in an older version is upcast (its type, dataschema and data are those of
    the latest version); a version this code does not know is malformed: it is dead-lettered.
    `as_written` keeps the event as it was written, which is what its hash covers.
    """
    attrs = {key: raw.decode("utf-8", "replace") for key, raw in headers}
    if not _REQUIRED.issubset(attrs):
        missing = [a for a in REQUIRED if a not in attrs]
        raise MalformedEnvelope(f"missing CloudEvents headers: {', '.join(missing)}")
    if attrs.get("ce_specversion") != SPEC_VERSION:
        raise MalformedEnvelope(f"unsupported ce_specversion {attrs.get('ce_specversion')!r}")
    try:
        data = orjson.loads(value or b"")
        event_id = UUID(attrs["ce_id"])
        time = datetime.fromisoformat(attrs["ce_time"])
    except ValueError as error:
        raise MalformedEnvelope(f"unreadable event: {error}") from error
    if not isinstance(data, dict):
        raise MalformedEnvelope("the payload is not a JSON object")
    event_type, dataschema = attrs["ce_type"], attrs.get("ce_dataschema", "")
    if not as_written:
        try:
            event_type, data = upcast(event_type, data)
        except UnknownEventVersion as error:
            raise MalformedEnvelope(str(error)) from error
        except (
            KeyError,
            TypeError,
            ValueError,
        ) as error:  # an old payload its upcaster cannot read
            raise MalformedEnvelope(f"{attrs['ce_type']}: cannot upcast: {error!r}") from error
        if event_type != attrs["ce_type"]:
            dataschema = event_model(event_type).dataschema()
    extra = attrs.keys() - _NO_EXTENSION  # most events have none: one set operation
    extensions = (
        {
            k.removeprefix("ce_"): v
            for k, v in attrs.items()
            if k in extra and (k.startswith("ce_") or k in TRACE_CONTEXT)
        }
        if extra
        else {}
    )
    return Envelope.read(
        id=event_id,
        source=attrs["ce_source"],
        type=event_type,
        subject=attrs["ce_subject"],
        time=time,
        dataschema=dataschema,
        data=data,
        extensions=extensions,
        latest=not as_written,
    )
