"""Read models rebuilt from the log: drop them, replay the topics from offset 0, compare."""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from shared.contracts import DomainEvent, registered_types
from shared.contracts.registry import upcaster_from
from shared.contracts.upcasting import versions_of
from shared.kernel.collector import collecting_less
from shared.kernel.consumer import Consumer, Subscription, names_people
from shared.kernel.envelope import Envelope, MalformedEnvelope, unwrap
from shared.kernel.opening import open_envelopes
from shared.kernel.writes import Folding
from shared.personal.vault import Vault


async def digest(pool: asyncpg.Pool, tables: Sequence[str]) -> str:
    """A fingerprint of the read models' content, independent of row order."""
    h = hashlib.sha256()
    async with pool.acquire() as conn:
        for table in tables:
            rows = await conn.fetchval(
                f"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM {table} t"
            )
            h.update(f"{table}\n{rows}\n".encode())
    return h.hexdigest()


# Events applied per transaction: several fetched batches, few commits, rows still in memory.
EVENTS_PER_TRANSACTION = 10_000


def written_types(consumer: Consumer) -> frozenset[bytes]:
    """The `ce_type` headers of every version of the types the consumer handles: a record of
    any other type is skipped before its payload is read."""
    types = {m.cloud_type() for model in consumer.handlers for m in versions_of(model)}
    types.update(consumer.types)
    for written in registered_types():  # an upcaster may also rename a type
        latest = written
        while (step := upcaster_from(latest)) is not None:
            latest = step.new.cloud_type()
        if latest in consumer.types:
            types.add(written)
    return frozenset(t.encode() for t in types)


async def rebuild(
    pool: asyncpg.Pool,
    projection: Subscription,
    *,
    bootstrap: str,
    topics: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
    vault: Vault | None = None,
) -> int:
    """Empty the read models and replay every event up to the log's end at the start; the
    people's data opened with the vault's keys (erased ones read as erased)."""
    consumer = projection.consumer
    async with pool.acquire() as conn, conn.transaction():
        for table in projection.read_models:
            await conn.execute(f"DELETE FROM {table}")
        await conn.execute("DELETE FROM processed_events WHERE consumer = $1", consumer.name)
    # A consumer of its own making (its own `handles` or `effect`: the audit's heads, read
    # from the headers) is given every record, one after the other, as live.
    own = type(consumer).effect is not Consumer.effect or (
        type(consumer).handles is not Consumer.handles
    )
    wanted = None if own else written_types(consumer)
    applied = seen = 0
    with collecting_less() as collection:  # a transaction's worth of events alive at once
        async with from_the_start(bootstrap, topics) as (reader, end):
            total = sum(end.values())
            if progress:
                progress(seen, total)

            async def prepared(
                chunk: Sequence[ConsumerRecord],
            ) -> Callable[[], Coroutine[Any, Any, int]]:
                """The chunk read here; its transaction, to run when its turn comes."""
                if own:
                    each = await _read(chunk, vault)
                    return lambda: _write_each(pool, consumer, each)
                events = await _read_events(chunk, vault)
                return lambda: _write(pool, consumer, events)

            # A transaction's writes run in PostgreSQL while the next chunk is read here: one
            # transaction at a time, in log order; the chunk read meanwhile waits for its turn.
            writing: asyncio.Task[int] | None = None
            try:
                while chunk := await _next_chunk(reader, end, wanted):
                    seen += chunk.seen
                    collection.read(chunk.seen)
                    transaction = await prepared(chunk.records)
                    if writing is not None:
                        applied += await writing
                    writing = asyncio.create_task(transaction())
                    if progress:
                        progress(seen, total)
                if writing is not None:
                    applied += await writing
            finally:
                if writing is not None and not writing.done():
                    writing.cancel()  # a rebuild cut short is run again from the start
                    await asyncio.gather(writing, return_exceptions=True)
    return applied


@dataclass
class _Chunk:
    records: list[ConsumerRecord]  # those of the types the consumer handles (all, for its own)
    seen: int  # records read, skipped ones included

    def __bool__(self) -> bool:
        return self.seen > 0


async def _next_chunk(
    reader: AIOKafkaConsumer, end: dict[TopicPartition, int], wanted: frozenset[bytes] | None
) -> _Chunk:
    """Several fetched batches for one transaction, up to the log's end at the start (nothing
    once it is reached)."""
    chunk = _Chunk([], 0)

    async def behind() -> bool:
        return any([await reader.position(tp) < offset for tp, offset in end.items()])

    while len(chunk.records) < EVENTS_PER_TRANSACTION and await behind():
        for tp, records in (await reader.getmany(*end.keys(), timeout_ms=1000)).items():
            for record in records:
                if record.offset < end[tp]:
                    chunk.seen += 1
                    if wanted is None or _header(record, "ce_type") in wanted:
                        chunk.records.append(record)
    return chunk


@asynccontextmanager
async def from_the_start(
    bootstrap: str, topics: Sequence[str]
) -> AsyncIterator[tuple[AIOKafkaConsumer, dict[TopicPartition, int]]]:
    """A reader of the topics at offset 0, and where each of their partitions ends now (those
    holding records). No consumer group: it is assigned every partition and commits nothing."""
    reader = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        partitions = sorted(reader.assignment())
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        yield reader, {tp: offset for tp, offset in ends.items() if offset > 0}
    finally:
        await reader.stop()


def _header(record: ConsumerRecord, name: str) -> bytes | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value)
    return None


# Reading a chunk is a long run of CPU, while the transaction before it waits for a turn to
# send each of its statements: it is given one every TURN_SECONDS of reading. Not more often:
# under uvloop, with the broker's reader beside it, turns every 2 ms cost more than they gave.
TURN_SECONDS = 0.01
_TURN_CHECK = 100  # records read between two looks at the clock


class _Turns:
    def __init__(self) -> None:
        self._last = perf_counter()

    async def give(self) -> None:
        if (now := perf_counter()) - self._last >= TURN_SECONDS:
            await asyncio.sleep(0)
            self._last = now


async def _read(
    records: Sequence[ConsumerRecord], vault: Vault | None, turns: _Turns | None = None
) -> list[tuple[Envelope, ConsumerRecord]]:
    """The records' envelopes, their people's data opened with one look-up of keys."""
    turns = turns or _Turns()
    read: list[tuple[Envelope, ConsumerRecord]] = []
    naming: list[int] = []  # where those naming people are
    for i, record in enumerate(records):
        if i % _TURN_CHECK == 0:
            await turns.give()
        try:
            envelope = unwrap(record.headers, record.value)
        except MalformedEnvelope:
            continue  # dead-lettered when it was first consumed
        if names_people(record):
            naming.append(len(read))
        read.append((envelope, record))
    if naming:
        envelopes = await open_envelopes(vault, [read[i][0] for i in naming])
        for i, envelope in zip(naming, envelopes, strict=True):
            read[i] = (envelope, read[i][1])
    return read


async def _write_each(
    pool: asyncpg.Pool, consumer: Consumer, read: Sequence[tuple[Envelope, ConsumerRecord]]
) -> int:
    applied = 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_NO_WAIT)
        for envelope, record in read:
            try:
                applied += await consumer.apply_in(conn, envelope, record)
            except MalformedEnvelope:
                pass  # dead-lettered when it was first consumed
    return applied


# A rebuild cut short is run again from the start: its commits need not wait for the disk.
_NO_WAIT = "SET LOCAL synchronous_commit = off"


async def _apply(
    pool: asyncpg.Pool,
    consumer: Consumer,
    records: Sequence[ConsumerRecord],
    vault: Vault | None = None,
) -> int:
    """Records in log order, in one transaction: their tracking rows copied in bulk (inserted
    in one statement when one is there already), then each fresh event's effect, as
    `apply_in` one after the other would leave them.

    The handlers' row writes (`shared.kernel.writes`) are merged per row and written in bulk.
    The service is stopped, and a rebuild cut short is run again from the start (it empties
    the read models first): its commits need not wait for the disk.
    """
    return await _write(pool, consumer, await _read_events(records, vault))


Read = list[tuple[Envelope, ConsumerRecord, DomainEvent]]


async def _read_events(records: Sequence[ConsumerRecord], vault: Vault | None) -> Read:
    """The records' envelopes and events, read before their transaction."""
    turns = _Turns()
    read: Read = []
    for i, (envelope, record) in enumerate(await _read(records, vault, turns)):
        if i % _TURN_CHECK == 0:
            await turns.give()
        try:
            read.append((envelope, record, envelope.event()))
        except MalformedEnvelope:
            pass  # dead-lettered when it was first consumed
    return read


async def _write(pool: asyncpg.Pool, consumer: Consumer, read: Read) -> int:
    if not read:
        return 0
    firsts: dict[int, tuple[Envelope, ConsumerRecord, DomainEvent]] = {}
    for item in read:  # a second record of the same event has no effect
        firsts.setdefault(item[0].id.int, item)  # (an int hashes faster than a UUID)
    once = list(firsts.values())
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_NO_WAIT)
        tracked = [(e, r) for e, r, _ in once]
        if not await consumer.copy_tracking(conn, tracked):  # one applied in an earlier batch
            fresh = {i.int for i in await consumer.track_many(conn, tracked)}
            once = [item for item in once if item[0].id.int in fresh]
        folding = Folding(conn)  # the handlers' row writes merged, written in bulk at the end
        handlers = consumer.handlers
        for envelope, _, event in once:
            await handlers[type(event)](folding, event, envelope)
        await folding.flush()
    return len(once)
