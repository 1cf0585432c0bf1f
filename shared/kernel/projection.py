"""Read models rebuilt from the log: drop them, replay the topics from offset 0, compare."""

import hashlib
from collections.abc import Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer

from shared.kernel.consumer import Subscription
from shared.kernel.envelope import MalformedEnvelope, unwrap


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


async def rebuild(
    pool: asyncpg.Pool,
    projection: Subscription,
    *,
    bootstrap: str,
    topics: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Empty the read models and replay every event up to the log's end at the start."""
    async with pool.acquire() as conn, conn.transaction():
        for table in projection.read_models:
            await conn.execute(f"DELETE FROM {table}")
        await conn.execute(
            "DELETE FROM processed_events WHERE consumer = $1", projection.consumer.name
        )
    # No consumer group: the reader is assigned every partition and commits nothing.
    reader = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await reader.start()
    applied = 0
    try:
        partitions = sorted(reader.assignment())
        await reader.seek_to_beginning(*partitions)
        end = {
            tp: offset
            for tp, offset in (await reader.end_offsets(partitions)).items()
            if offset > 0
        }
        total = sum(end.values())
        seen = 0
        if progress:
            progress(seen, total)
        while [tp for tp, offset in end.items() if await reader.position(tp) < offset]:
            batches = await reader.getmany(*end.keys(), timeout_ms=1000)
            # One transaction per batch, not per event: the service is stopped, and a rebuild
            # cut short is run again from the start (it empties the read models first).
            async with pool.acquire() as conn, conn.transaction():
                for tp, records in batches.items():
                    for record in records:
                        if record.offset >= end[tp]:
                            continue
                        seen += 1
                        try:
                            envelope = unwrap(record.headers, record.value)
                            applied += await projection.consumer.apply_in(conn, envelope, record)
                        except MalformedEnvelope:
                            pass  # dead-lettered when it was first consumed
            if progress:
                progress(seen, total)
    finally:
        await reader.stop()
    return applied
