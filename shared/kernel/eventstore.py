"""PostgreSQL event store: one stream per dossier, hash-chained, with its outbox rows.

`append` writes the events and their outbox rows in the caller's transaction, so an event
is published if and only if that transaction commits. Each published event carries its
place in the chain and who acted (CloudEvents extensions `aap*`), so that a reader of the
log alone can check the chain and replay a dossier.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson

from shared.contracts import DomainEvent, read_event
from shared.kernel import hashchain
from shared.kernel.envelope import wrap
from shared.kernel.telemetry import trace_headers
from shared.language.errors import Invalid
from shared.personal.fields import emails_in, normalised, opened, persons_in, sealed
from shared.personal.sealing import PREFIX, Kind, Opener, seal
from shared.personal.vault import Vault

# The largest event payload the store takes: what it records must fit in one Kafka record (the
# broker's default message.max.bytes is 1 MiB, headers included), or the relay could never
# publish it and every later event of the service would wait behind it.
MAX_EVENT_BYTES = 512_000


def _encoded(event: DomainEvent, data: dict[str, Any]) -> bytes:
    """The bytes of the event's JSON document, stored and published as they are; refused
    when they could not be published, or not read back as written."""
    try:
        value = orjson.dumps(data)
    except orjson.JSONEncodeError as error:
        # An integer beyond 64 bits (orjson writes none, and would read one back as a float),
        # or a document nested deeper than orjson goes (254 levels).
        raise Invalid(
            [
                {
                    "field": "body",
                    "type": "event_unencodable",
                    "reason": f"what this command records ({event.name}) cannot be published "
                    f"as JSON ({error}): an integer beyond 64 bits is written as text",
                    "context": {},
                }
            ]
        ) from error
    if len(value) > MAX_EVENT_BYTES:
        raise Invalid(
            [
                {
                    "field": "body",
                    "type": "event_too_large",
                    "reason": f"what this command records ({event.name}) would be {len(value)} "
                    f"bytes: at most {MAX_EVENT_BYTES} bytes are published as one event",
                    "context": {"max_bytes": MAX_EVENT_BYTES},
                }
            ]
        )
    return value


def _actor_email(actor: object) -> str | None:
    """The e-mail an actor names (`applicant:<SIREN>:<e-mail>`), sealed like any person's."""
    if not isinstance(actor, str):
        return None
    who = actor.rpartition(":")[2]
    return who if "@" in who and not who.startswith(PREFIX) else None


class Appended:
    """Which connections of this process wrote outbox rows, until they go back to the pool.

    The event store notes each appending connection (`wrote`); the pool calls `released` when
    a connection comes back, its transaction over (committed, or rolled back: a wake for
    nothing costs one look). Connections are told apart by their server process id, which
    the pool's proxy and the connection under it share.
    """

    def __init__(self) -> None:
        self._writers: set[int] = set()
        self._wakes: list[Callable[[], None]] = []

    def wrote(self, conn: asyncpg.Connection) -> None:
        self._writers.add(conn.get_server_pid())

    def released(self, conn: asyncpg.Connection) -> None:
        if not self._writers:
            return
        pid = conn.get_server_pid()
        if pid in self._writers:
            self._writers.discard(pid)
            for wake in self._wakes:
                wake()

    def wakes(self, wake: Callable[[], None]) -> None:
        self._wakes.append(wake)


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream since it was read: reload and decide again."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} moved past version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    version: int
    event_id: UUID
    event_type: str
    occurred_at: datetime
    data: dict[str, Any]
    metadata: dict[str, Any]
    prev_hash: str
    hash: str
    # The typed event, when the store has it at hand (it just appended it).
    typed: DomainEvent | None = field(default=None, compare=False, repr=False)

    def event(self) -> DomainEvent:
        """The typed event in its latest version (an older one is upcast); `data` stays as
        written."""
        return self.typed if self.typed is not None else read_event(self.event_type, self.data)


_COLUMNS = "stream_id, version, event_id, event_type, occurred_at, data, metadata, prev_hash, hash"

# Both reads are ranges of the primary key (stream_id, version): never a scan of the log.
_LOAD = f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version"

_AFTER = f"""
SELECT {_COLUMNS} FROM events WHERE (stream_id, version) > ($1, $2)
ORDER BY stream_id, version LIMIT $3
"""

# One statement writes a whole append, its events and their outbox rows (one round trip):
# a data-modifying WITH runs to completion whether or not the outer INSERT reads it, and a
# conflict on the events' primary key fails the whole statement.
#
# The outbox orders rows by `tx`: the writing transaction's id, raised to at least the tx of
# the stream's previous outbox row ({last}), so that a transaction that got its id before
# reading the stream still publishes after the events it read. The rows of one append share
# their tx and take their positions in the events' order.
_APPEND = """
WITH appended AS (
    INSERT INTO events (stream_id, version, event_id, event_type, occurred_at, data, metadata,
                        prev_hash, hash)
    SELECT $1, e.version, e.event_id, e.event_type, $2, e.data::jsonb, $3::jsonb, e.prev_hash,
           e.hash
    FROM unnest($4::int[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[])
         AS e(version, event_id, event_type, data, prev_hash, hash)
)
INSERT INTO outbox (tx, topic, key, headers, value)
SELECT GREATEST(pg_current_xact_id(), {last}), $10, o.key, o.headers::jsonb, o.value
FROM unnest($11::text[], $12::text[], $13::bytea[]) WITH ORDINALITY AS o(key, headers, value, n)
ORDER BY o.n
"""
_LAST_TX = "(SELECT tx FROM outbox WHERE key = $1 ORDER BY position DESC LIMIT 1)"
_APPEND_AFTER = _APPEND.format(last=f"COALESCE({_LAST_TX}, '0'::xid8)")
# The caller made the stream's id for these events: no earlier outbox row of it can exist.
_APPEND_NEW = _APPEND.format(last="'0'::xid8")


class EventStore:
    def __init__(
        self,
        *,
        source: str,
        topic: str,
        appended: Appended | None = None,
        vault: Vault | None = None,
    ) -> None:
        self.source = source  # CloudEvents `source`, e.g. /aap/selection
        self.topic = topic
        # Told of each connection that appended: the relay of this process is woken when it
        # goes back to the pool, its transaction over.
        self.appended = appended
        # The people's keys: the people events name are sealed under them. Without one (tests
        # of handlers in memory) they are written in clear.
        self.vault = vault

    def sealing_with(self, vault: Vault) -> "EventStore":
        """The same store, sealing the people its events name with this vault's keys."""
        return EventStore(source=self.source, topic=self.topic, appended=self.appended, vault=vault)

    async def load(self, conn: asyncpg.Connection, stream_id: str) -> list[StoredEvent]:
        """The stream, each event typed with its people's data opened (`data` as written)."""
        return await opened_events(self.vault, await read_stream(conn, stream_id))

    async def _sealing(
        self, stream_id: str, events: Sequence[DomainEvent], actor: object
    ) -> tuple[list[dict[str, Any]], Any]:
        """Each event's JSON with the people it names sealed, and the actor sealed likewise."""
        documents = [event.model_dump(mode="json") for event in events]
        if self.vault is None:
            return documents, actor
        pairs = list(zip(events, documents, strict=True))
        emails = {e for event, data in pairs for e in emails_in(type(event), data)}
        actor_email = _actor_email(actor)
        if actor_email is not None:
            emails.add(normalised(actor_email))
        if not emails:
            return documents, actor
        keys = await self.vault.persons(emails, stream_id)
        documents = [sealed(type(event), data, keys) for event, data in pairs]
        if actor_email is not None and isinstance(actor, str):
            person, key = keys[normalised(actor_email)]
            head = actor[: len(actor) - len(actor_email)]
            actor = head + seal(actor_email, person, key, Kind.email)
        return documents, actor

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        prev_hash: str,
        now: datetime,
        metadata: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        new_stream: bool = False,
    ) -> list[StoredEvent]:
        """Append after `expected_version` (0 for a new stream); raise ConcurrencyConflict.

        `new_stream`: the caller made the stream's id for these events, so no earlier outbox
        row of it can exist (one read less on the hot path of a filing).
        """
        if not conn.is_in_transaction():
            raise RuntimeError("append must run inside the caller's transaction")
        if not events:
            return []
        occurred_at = now.astimezone(UTC)
        meta = dict(metadata or {})
        documents, actor = await self._sealing(stream_id, events, meta.get("actor"))
        if actor is not None:
            meta["actor"] = actor
        stored: list[StoredEvent] = []
        payloads: list[str] = []  # each event's value, as text for its JSONB column
        outbox: list[tuple[str, str, bytes]] = []  # key, headers, value
        for offset, (event, data) in enumerate(zip(events, documents, strict=True), start=1):
            version = expected_version + offset
            event_id = uuid4()
            value = _encoded(event, data)
            payloads.append(value.decode())
            digest = hashchain.link(
                prev_hash,
                stream_id=stream_id,
                version=version,
                event_id=str(event_id),
                event_type=event.cloud_type(),
                occurred_at=occurred_at.isoformat(),
                data=data,
                actor=meta.get("actor"),
                causation_id=meta.get("causation_id"),
            )
            chain = _chain_extensions(stream_id, version, prev_hash, digest, meta)
            envelope = wrap(
                event,
                event_id=event_id,
                source=self.source,
                time=occurred_at,
                extensions={**trace_headers(), **(headers or {}), **chain},
                data=data,
            )
            outbox.append((str(event.dossier_id), orjson.dumps(envelope.headers()).decode(), value))
            stored.append(
                StoredEvent(
                    stream_id,
                    version,
                    event_id,
                    event.cloud_type(),
                    occurred_at,
                    data,
                    meta,
                    prev_hash,
                    digest,
                    typed=event,
                )
            )
            prev_hash = digest
        try:
            # No savepoint: on a conflict the caller's whole transaction is retried.
            await conn.execute(
                _APPEND_NEW if new_stream else _APPEND_AFTER,
                stream_id,
                occurred_at,
                orjson.dumps(meta).decode(),
                [s.version for s in stored],
                [s.event_id for s in stored],
                [s.event_type for s in stored],
                payloads,
                [s.prev_hash for s in stored],
                [s.hash for s in stored],
                self.topic,
                [key for key, _, _ in outbox],
                [headers for _, headers, _ in outbox],
                [value for _, _, value in outbox],
            )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "events_pkey":
                raise ConcurrencyConflict(stream_id, expected_version) from error
            raise
        if self.appended is not None:
            self.appended.wrote(conn)
        return stored


async def read_stream(conn: asyncpg.Connection, stream_id: str) -> list[StoredEvent]:
    """One stream, in version order."""
    return [_stored(row) for row in await conn.fetch(_LOAD, stream_id)]


async def read_after(
    conn: asyncpg.Connection, stream_id: str, version: int, limit: int
) -> list[StoredEvent]:
    """The next `limit` events of the whole store after (stream_id, version), in key order."""
    return [_stored(row) for row in await conn.fetch(_AFTER, stream_id, version, limit)]


async def opened_events(vault: Vault | None, stored: list[StoredEvent]) -> list[StoredEvent]:
    """The events typed with their people's data opened (clear, or placeholders once erased);
    `data` stays as written, which is what the hash covers."""
    named = [persons_in(s.data) for s in stored]
    persons = set().union(*named)
    if not persons:
        return stored
    opener = Opener(await vault.keys(persons) if vault is not None else {})
    return [
        replace(s, typed=read_event(s.event_type, opened(s.data, opener))) if people else s
        for s, people in zip(stored, named, strict=True)
    ]


def _chain_extensions(
    stream_id: str, version: int, prev_hash: str, digest: str, metadata: Mapping[str, Any]
) -> dict[str, str]:
    """The event's place in its stream's chain, who acted and what caused it."""
    extensions = {
        "aapstream": stream_id,
        "aapversion": str(version),
        "aapprevhash": prev_hash,
        "aaphash": digest,
    }
    if metadata.get("actor") is not None:
        extensions["aapactor"] = str(metadata["actor"])
    if metadata.get("causation_id") is not None:
        extensions["aapcausation"] = str(metadata["causation_id"])
    return extensions


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        occurred_at=row["occurred_at"],
        data=orjson.loads(row["data"]),
        metadata=orjson.loads(row["metadata"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def head_hash(events: Sequence[StoredEvent]) -> str:
    return events[-1].hash if events else hashchain.GENESIS
