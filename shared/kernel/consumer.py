"""The consumer kernel: exactly-once effects over at-least-once delivery.

Each event's effect is written in one transaction with a tracking row (consumer, event id);
a redelivered event finds its row and has no second effect. Live consumers take what the
broker has at hand as a batch, applied in one transaction (their tracking rows written in one
statement, then each fresh event's effect); the Kafka offset is committed only after that
transaction (FastStream's NACK_ON_ERROR policy acks after the handler).
An event that cannot be read, or whose handler keeps failing, goes to the dead-letter
topic with the reason, and the consumer carries on. An outage of PostgreSQL is no reason
to give up an event: it is held and tried again, with a growing wait, until it comes back.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import asyncpg
from aiokafka.structs import ConsumerRecord

from shared.contracts import DomainEvent
from shared.kernel import outages
from shared.kernel.backoff import Backoff
from shared.kernel.envelope import Envelope, MalformedEnvelope, unwrap
from shared.kernel.opening import open_envelope, open_envelopes
from shared.personal.sealing import PREFIX
from shared.personal.vault import Vault

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Any, Envelope], Awaitable[None]]
DeadLetter = Callable[[ConsumerRecord, str], Awaitable[None]]
# What became of a record: counted by the metrics (aap_events_consumed_total{outcome}).
Outcome = Literal["applied", "duplicate", "ignored", "dead-lettered"]
# Around each record's effect in a batch (the runtime's span for it: its trace goes on).
Around = Callable[[ConsumerRecord], AbstractContextManager[object]]


def _nothing_around(_: ConsumerRecord) -> AbstractContextManager[object]:
    return nullcontext()


_TRACK = """
INSERT INTO processed_events (consumer, event_id, topic, kafka_partition, kafka_offset)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1
"""
# The same for many events at once (a rebuild's batch): the ids of those not tracked before.
_TRACK_MANY = """
INSERT INTO processed_events (consumer, event_id, topic, kafka_partition, kafka_offset)
SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[])
ON CONFLICT DO NOTHING RETURNING event_id
"""

_TRACKED = ("consumer", "event_id", "topic", "kafka_partition", "kafka_offset")


@dataclass(frozen=True)
class Consumer:
    """A named consumer and its handlers, one per event type it cares about."""

    name: str
    handlers: Mapping[type[DomainEvent], Handler]
    types: frozenset[str] = field(init=False, repr=False)  # the CloudEvents types it handles

    def __post_init__(self) -> None:
        types = frozenset(model.cloud_type() for model in self.handlers)
        object.__setattr__(self, "types", types)

    def handles(self, envelope: Envelope) -> bool:
        return envelope.type in self.types

    async def apply(self, pool: asyncpg.Pool, envelope: Envelope, record: ConsumerRecord) -> bool:
        """Apply one event with its tracking row; False when it was already applied or ignored."""
        if not self.handles(envelope):
            return False
        async with pool.acquire() as conn, conn.transaction():
            return await self.apply_in(conn, envelope, record)

    async def apply_in(
        self, conn: asyncpg.Connection, envelope: Envelope, record: ConsumerRecord
    ) -> bool:
        """The same, in the caller's transaction (a rebuild applies a whole batch in one)."""
        if not self.handles(envelope) or not await self.track(conn, envelope, record):
            return False
        await self.effect(conn, envelope, record)
        return True

    async def apply_all(
        self,
        conn: asyncpg.Connection,
        batch: Sequence[tuple[Envelope, ConsumerRecord]],
        around: Around = _nothing_around,
    ) -> list[bool]:
        """Several in the caller's transaction, as `apply_in` one after the other would leave
        them: their tracking rows in one statement, then each fresh event's effect in order
        (`around` it, its span). Whether each was applied."""
        fresh = await self.track_many(conn, [(e, r) for e, r in batch if self.handles(e)])
        applied: list[bool] = []
        for envelope, record in batch:
            if envelope.id not in fresh or not self.handles(envelope):
                applied.append(False)
                continue
            fresh.discard(envelope.id)  # the same event again in the batch: a duplicate
            with around(record):
                await self.effect(conn, envelope, record)
            applied.append(True)
        return applied

    async def effect(
        self, conn: asyncpg.Connection, envelope: Envelope, record: ConsumerRecord
    ) -> None:
        """A handled event's effect, its tracking row written: its handler's."""
        event = envelope.event()
        await self.handlers[type(event)](conn, event, envelope)

    async def track(
        self, conn: asyncpg.Connection, envelope: Envelope, record: ConsumerRecord
    ) -> bool:
        """The tracking row of this event for this consumer; False when it was already there."""
        fresh = await conn.fetchval(
            _TRACK, self.name, envelope.id, record.topic, record.partition, record.offset
        )
        return bool(fresh)

    async def track_many(
        self, conn: asyncpg.Connection, tracked: Sequence[tuple[Envelope, ConsumerRecord]]
    ) -> set[UUID]:
        """The tracking rows of many events in one statement; the ids that were not there yet.
        An id met twice is tracked at its first record, as one `track` after the other would."""
        first: dict[UUID, ConsumerRecord] = {}
        for envelope, record in tracked:
            first.setdefault(envelope.id, record)
        if not first:
            return set()
        records = list(first.values())
        rows = await conn.fetch(
            _TRACK_MANY,
            self.name,
            list(first),
            [r.topic for r in records],
            [r.partition for r in records],
            [r.offset for r in records],
        )
        return {row["event_id"] for row in rows}

    async def copy_tracking(
        self, conn: asyncpg.Connection, tracked: Sequence[tuple[Envelope, ConsumerRecord]]
    ) -> bool:
        """The tracking rows of events met once each, copied in bulk (COPY): faster than
        `track_many` where hardly any is there yet (a rebuild, which emptied them first).
        False, and nothing copied, when one is there already (an event the log holds twice)."""
        rows = [(self.name, e.id, r.topic, r.partition, r.offset) for e, r in tracked]
        try:
            async with conn.transaction():  # a savepoint: a duplicate undoes the copy only
                await conn.copy_records_to_table("processed_events", records=rows, columns=_TRACKED)
        except asyncpg.UniqueViolationError:
            return False
        return True


@dataclass(frozen=True)
class Subscription:
    """A consumer, the services whose event topics it reads, and the read models it owns.

    A subscription with read models is a projection: dropping them and replaying the log
    rebuilds them. One without only acts (emits events, queues mail) and is never replayed.
    """

    consumer: Consumer
    services: Sequence[str]
    read_models: Sequence[str] = ()


async def consume_record(
    consumer: Consumer,
    pool: asyncpg.Pool,
    record: ConsumerRecord,
    dead_letter: DeadLetter,
    *,
    retries: int,
    backoff_seconds: float = 0.2,
    vault: Vault | None = None,
) -> Outcome:
    """Apply one record, or dead-letter it. While the database is away the record is held
    (its offset uncommitted, the partition's later records behind it) and tried again with a
    growing wait: the consumer goes on where it stopped when the database comes back."""
    try:
        envelope = unwrap(record.headers, record.value)
    except MalformedEnvelope as error:
        await dead_letter(record, f"unreadable: {error}")
        return "dead-lettered"
    if not consumer.handles(envelope):
        return "ignored"
    waiting = _waiting.setdefault(
        consumer.name, Backoff(f"PostgreSQL ({consumer.name})", logger=log)
    )
    while True:
        try:
            if names_people(record):  # its people's data opened before its contract reads it
                envelope = await open_envelope(vault, envelope)
            outcome = await _apply(
                consumer, pool, envelope, record, dead_letter, retries, backoff_seconds
            )
        except outages.DATABASE_AWAY as error:
            await waiting.pause(error)
            continue
        waiting.succeeded()
        return outcome


async def consume_batch(
    consumer: Consumer,
    pool: asyncpg.Pool,
    records: Sequence[ConsumerRecord],
    dead_letter: DeadLetter,
    *,
    retries: int,
    backoff_seconds: float = 0.2,
    vault: Vault | None = None,
    around: Around = _nothing_around,
) -> list[Outcome]:
    """Apply a batch of records (in each partition's order) in one transaction, each with its
    tracking row as `apply_in` writes it: one commit for the batch. When any of them fails
    (a contract broken, a handler failing, another writer first), nothing of the batch is kept
    and each record is consumed again on its own (`consume_record`: retries, dead letter).
    While the database is away the batch is held and tried again, as a single record is.
    The outcome of each record, in order."""
    outcomes: list[Outcome | None] = [None] * len(records)
    handled: list[tuple[int, Envelope, ConsumerRecord]] = []
    for i, record in enumerate(records):
        try:
            envelope = unwrap(record.headers, record.value)
        except MalformedEnvelope as error:
            await dead_letter(record, f"unreadable: {error}")
            outcomes[i] = "dead-lettered"
            continue
        if consumer.handles(envelope):
            handled.append((i, envelope, record))
        else:
            outcomes[i] = "ignored"
    if handled:
        waiting = _waiting.setdefault(
            consumer.name, Backoff(f"PostgreSQL ({consumer.name})", logger=log)
        )
        while True:
            try:
                applied = await _apply_batch(consumer, pool, handled, vault, around)
            except outages.DATABASE_AWAY as error:
                await waiting.pause(error)
                continue
            except Exception as error:  # one of them fails: each on its own says which
                log.info("%s: a batch failed (%s); its records one by one", consumer.name, error)
                for i, _, record in handled:
                    with around(record):
                        outcomes[i] = await consume_record(
                            consumer,
                            pool,
                            record,
                            dead_letter,
                            retries=retries,
                            backoff_seconds=backoff_seconds,
                            vault=vault,
                        )
                break
            waiting.succeeded()
            for (i, _, _), fresh in zip(handled, applied, strict=True):
                outcomes[i] = "applied" if fresh else "duplicate"
            break
    return [outcome or "ignored" for outcome in outcomes]


async def _apply_batch(
    consumer: Consumer,
    pool: asyncpg.Pool,
    handled: Sequence[tuple[int, Envelope, ConsumerRecord]],
    vault: Vault | None,
    around: Around,
) -> list[bool]:
    naming = [k for k, (_, _, record) in enumerate(handled) if names_people(record)]
    envelopes = [envelope for _, envelope, _ in handled]
    if naming:  # their people's data opened before their contracts read them: one look-up
        opened = await open_envelopes(vault, [envelopes[k] for k in naming])
        for k, envelope in zip(naming, opened, strict=True):
            envelopes[k] = envelope
    records = [record for _, _, record in handled]
    async with pool.acquire() as conn, conn.transaction():
        return await consumer.apply_all(conn, list(zip(envelopes, records, strict=True)), around)


_SEALED = PREFIX.encode()


def names_people(record: ConsumerRecord) -> bool:
    """Whether a record holds sealed values (a look at its bytes, not a walk of its JSON)."""
    return _SEALED in (record.value or b"")


# One per consumer of the process: it says once that the database went, once that it came back.
_waiting: dict[str, Backoff] = {}


async def _apply(
    consumer: Consumer,
    pool: asyncpg.Pool,
    envelope: Envelope,
    record: ConsumerRecord,
    dead_letter: DeadLetter,
    retries: int,
    backoff_seconds: float,
) -> Outcome:
    reason = ""
    for attempt in range(1, retries + 1):
        try:
            return "applied" if await consumer.apply(pool, envelope, record) else "duplicate"
        except outages.DATABASE_AWAY:
            raise
        except MalformedEnvelope as error:
            reason = f"breaks its contract: {error}"
            break
        except Exception as error:  # a failing handler: bounded retries, then dead letter
            reason = f"handler failed after {attempt} attempt(s): {type(error).__name__}: {error}"
            log.warning("%s: %s (event %s)", consumer.name, reason, envelope.id)
            await asyncio.sleep(backoff_seconds * attempt)
    await dead_letter(record, reason)
    return "dead-lettered"


def dead_letter_headers(record: ConsumerRecord, consumer: str, reason: str) -> dict[str, str]:
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
    headers.update(
        {
            "aap_dlq_reason": reason[:2000],
            "aap_dlq_consumer": consumer,
            "aap_dlq_topic": record.topic,
            "aap_dlq_partition": str(record.partition),
            "aap_dlq_offset": str(record.offset),
        }
    )
    return headers
