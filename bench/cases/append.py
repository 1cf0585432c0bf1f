"""Append: events/s through EventStore.append by N writers, beside bare INSERTs of rows as large.

Each append is what a filing writes: one ApplicationSubmitted on a new stream, hash-chained,
with its outbox row, in its own transaction. The ceiling writes one row carrying the same
JSON payload per transaction, from the same number of connections.
"""

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from bench.context import Bench
from bench.lives import submitted
from bench.measure import best_of, for_seconds
from bench.results import Comparison, Outcome
from shared.contracts.applications import ApplicationSubmitted
from shared.kernel import db, hashchain, topics
from shared.kernel.eventstore import EventStore

TITLE = "Append: events appended per second by concurrent writers"

BARE = """
CREATE TABLE IF NOT EXISTS bare_rows (
    id    UUID  PRIMARY KEY,
    body  JSONB NOT NULL
);
"""


Operation = Callable[[], Awaitable[None]]


def appender(conn: asyncpg.Connection, store: EventStore, model: ApplicationSubmitted) -> Operation:
    async def append() -> None:
        dossier_id = uuid4()
        event = model.model_copy(update={"dossier_id": dossier_id})
        async with conn.transaction():
            await store.append(
                conn,
                str(dossier_id),
                0,
                [event],
                prev_hash=hashchain.GENESIS,
                now=datetime.now(UTC),
                metadata={"actor": "applicant:bench"},
            )

    return append


def inserter(conn: asyncpg.Connection, body: str) -> Operation:
    async def insert() -> None:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO bare_rows (id, body) VALUES ($1, $2::jsonb)", uuid4(), body
            )

    return insert


async def measure(bench: Bench) -> Outcome:
    settings, sizes = bench.scoped("append"), bench.sizes
    await db.provision(settings, "store", BARE)
    pool = await db.open_pool(settings, "store", size=sizes.writers)
    store = EventStore(
        source="/aap/bench", topic=topics.events_topic(settings.topic_prefix, "bench")
    )
    model = submitted(uuid4(), datetime.now(UTC))
    body = json.dumps(model.model_dump(mode="json"))
    conns = [await pool.acquire() for _ in range(sizes.writers)]
    try:

        async def platform() -> float:
            return await for_seconds(
                sizes.append_seconds, [appender(c, store, model) for c in conns]
            )

        async def ceiling() -> float:
            return await for_seconds(sizes.append_seconds, [inserter(c, body) for c in conns])

        bare, appended = await best_of(sizes.rounds, ceiling, platform)
        event_row = await conns[0].fetchval("SELECT avg(pg_column_size(e.*))::int FROM events e")
        outbox_row = await conns[0].fetchval("SELECT avg(pg_column_size(o.*))::int FROM outbox o")
        bare_row = await conns[0].fetchval("SELECT avg(pg_column_size(b.*))::int FROM bare_rows b")
    finally:
        for conn in conns:
            await pool.release(conn)
        await pool.close()
    return Outcome(
        parameters={
            "writers": sizes.writers,
            "seconds_per_measure": sizes.append_seconds,
            "rounds": sizes.rounds,
            "payload_bytes": len(body),
        },
        comparisons=[
            Comparison(
                "events appended, one per transaction",
                "events/s",
                appended,
                bare,
                "bare asyncpg INSERT, one row per transaction",
            )
        ],
        figures={
            "event_row_bytes": event_row,
            "outbox_row_bytes": outbox_row,
            "bare_row_bytes": bare_row,
        },
    )
