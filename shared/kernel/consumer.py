"""The consumer kernel: exactly-once effects over at-least-once delivery.

Each event's effect is written in one transaction with a tracking row (consumer, event id);
a redelivered event finds its row and has no second effect. The Kafka offset is committed
only after that transaction (FastStream's NACK_ON_ERROR policy acks after the handler).
An event that cannot be read, or whose handler keeps failing, goes to the dead-letter
topic with the reason, and the consumer carries on. An outage of PostgreSQL is no reason
to give up an event: it is held and tried again, with a growing wait, until it comes back.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import asyncpg
from aiokafka.structs import ConsumerRecord

from shared.contracts import DomainEvent
from shared.kernel import outages
from shared.kernel.backoff import Backoff
from shared.kernel.envelope import Envelope, MalformedEnvelope, unwrap
from shared.kernel.opening import open_envelope
from shared.personal.sealing import PREFIX
from shared.personal.vault import Vault

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Any, Envelope], Awaitable[None]]
DeadLetter = Callable[[ConsumerRecord, str], Awaitable[None]]
# What became of a record: counted by the metrics (aap_events_consumed_total{outcome}).
Outcome = Literal["applied", "duplicate", "ignored", "dead-lettered"]

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
        if not self.handles(envelope):
            return False
        event = envelope.event()
        if not await self.track(conn, envelope, record):
            return False
        await self.handlers[type(event)](conn, event, envelope)
        return True

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
