"""One event as an auditor sees it, from a store, the published log or a bundle; their order."""

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shared.contracts import DomainEvent, read_event
from shared.kernel import hashchain
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import StoredEvent
from shared.personal.fields import opened, persons_in
from shared.personal.sealing import Keys, open_text
from shared.personal.vault import Vault

# The order of the services along a dossier's life: it orders events of the same instant.
SERVICES = ("applications", "selection", "payments", "notifications")


def short_type(cloud_type: str) -> str:
    """fr.gouv.mildeca.aap.SelectionDecided.v1 -> SelectionDecided"""
    return cloud_type.rsplit(".", 2)[-2] if cloud_type.count(".") >= 2 else cloud_type


@dataclass(frozen=True)
class AuditEvent:
    service: str
    stream_id: str
    version: int
    event_id: UUID
    type: str  # the short name, e.g. "SelectionDecided"
    cloud_type: str
    occurred_at: datetime
    actor: str | None
    causation_id: str | None  # the event id of the event that caused this one
    data: dict[str, Any]
    prev_hash: str
    hash: str
    # The keys of the people its data names, when the reader has the vault: without them, their
    # values read as unopened placeholders (an offline bundle). The hash covers `data` as written.
    keys: Keys = field(default_factory=dict, compare=False, repr=False)

    def content(self) -> dict[str, Any]:
        """What the event's hash covers, besides the previous hash (shared.kernel.hashchain)."""
        return {
            "stream_id": self.stream_id,
            "version": self.version,
            "event_id": str(self.event_id),
            "event_type": self.cloud_type,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "data": self.data,
            "actor": self.actor,
            "causation_id": self.causation_id,
        }

    def links(self) -> bool:
        """Whether the event's hash is still the link of its content and previous hash."""
        return hashchain.matches(self.hash, self.prev_hash, **self.content())

    def written_as(self, versions: Iterable[int]) -> int | None:
        """The version, among `versions`, whose link the event's hash is (an event moved)."""
        return next((v for v in versions if replace(self, version=v).links()), None)

    def event(self) -> DomainEvent:
        """The typed event in its latest version, its people's data opened with the keys at hand;
        `data` stays as written (what the hash covers)."""
        return read_event(self.cloud_type, opened(self.data, self.keys))

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "stream_id": self.stream_id,
            "version": self.version,
            "event_id": str(self.event_id),
            "type": self.type,
            "cloud_type": self.cloud_type,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "causation_id": self.causation_id,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def as_read(self) -> dict[str, Any]:
        """As `as_json`, its actor and data opened with the keys at hand (clear, erased or
        unopened), for a reader; `sealed` says the hash covers them as written (the bundle)."""
        written = self.as_json()
        data, actor = opened(self.data, self.keys), self.actor and open_text(self.actor, self.keys)
        if data == self.data and actor == self.actor:
            return written
        return {**written, "actor": actor, "data": data, "sealed": True}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "AuditEvent":
        """Raises KeyError, ValueError or TypeError on what is not an event's JSON."""
        occurred_at = datetime.fromisoformat(raw["occurred_at"])
        if occurred_at.tzinfo is None:
            raise ValueError("occurred_at has no UTC offset")
        if not isinstance(raw["data"], dict):
            raise TypeError("data is not a JSON object")
        return cls(
            service=str(raw["service"]),
            stream_id=str(raw["stream_id"]),
            version=int(raw["version"]),
            event_id=UUID(raw["event_id"]),
            type=str(raw["type"]),
            cloud_type=str(raw["cloud_type"]),
            occurred_at=occurred_at,
            actor=_text(raw.get("actor")),
            causation_id=_text(raw.get("causation_id")),
            data=raw["data"],
            prev_hash=str(raw["prev_hash"]),
            hash=str(raw["hash"]),
        )

    @classmethod
    def from_stored(cls, service: str, stored: StoredEvent) -> "AuditEvent":
        return cls(
            service=service,
            stream_id=stored.stream_id,
            version=stored.version,
            event_id=stored.event_id,
            type=short_type(stored.event_type),
            cloud_type=stored.event_type,
            occurred_at=stored.occurred_at,
            actor=_text(stored.metadata.get("actor")),
            causation_id=_text(stored.metadata.get("causation_id")),
            data=stored.data,
            prev_hash=stored.prev_hash,
            hash=stored.hash,
        )

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> "AuditEvent":
        """An event as published; one published before events carried their chain has version 0."""
        ext = envelope.extensions
        return cls(
            service=envelope.source.rsplit("/", 1)[-1],
            stream_id=ext.get("aapstream", envelope.subject),
            version=int(ext.get("aapversion", "0")),
            event_id=envelope.id,
            type=short_type(envelope.type),
            cloud_type=envelope.type,
            occurred_at=envelope.time,
            actor=ext.get("aapactor"),
            causation_id=ext.get("aapcausation"),
            data=envelope.data,
            prev_hash=ext.get("aapprevhash", ""),
            hash=ext.get("aaphash", ""),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _rank(service: str) -> int:
    return SERVICES.index(service) if service in SERVICES else len(SERVICES)


def ordered(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Time order (ties: service order, then version), except that an event never comes
    before the event that caused it, nor before the earlier versions of its stream."""
    pending = sorted(events, key=lambda e: (e.occurred_at, _rank(e.service), e.version))
    position = {e.event_id: i for i, e in enumerate(pending)}
    previous_in_stream: dict[tuple[str, str], int] = {}
    waiting_on = [0] * len(pending)
    dependents: list[list[int]] = [[] for _ in pending]
    for i, e in sorted(enumerate(pending), key=lambda ie: ie[1].version):
        stream = (e.service, e.stream_id)
        before = {previous_in_stream.get(stream), _cause(e, position)} - {None, i}
        previous_in_stream[stream] = i
        for j in before:
            assert j is not None
            waiting_on[i] += 1
            dependents[j].append(i)
    ready = [i for i, count in enumerate(waiting_on) if count == 0]
    heapq.heapify(ready)
    placed: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        placed.append(i)
        for k in dependents[i]:
            waiting_on[k] -= 1
            if waiting_on[k] == 0:
                heapq.heappush(ready, k)
    # Causes that contradict each other (only in a forged history): the rest in time order.
    rest = sorted(set(range(len(pending))) - set(placed))
    return [pending[i] for i in placed + rest]


def _cause(event: AuditEvent, position: Mapping[UUID, int]) -> int | None:
    if not event.causation_id:
        return None
    try:
        return position.get(UUID(event.causation_id))
    except ValueError:
        return None


async def with_keys(vault: Vault | None, events: Sequence[AuditEvent]) -> list[AuditEvent]:
    """An auditor's events, able to read the people they name (their `data` as written)."""
    persons: set[UUID] = set()
    for e in events:
        persons |= persons_in(e.data) | persons_in(e.actor or "")
    if not persons or vault is None:
        return list(events)
    keys = await vault.keys(persons)
    return [replace(e, keys=keys) for e in events]
