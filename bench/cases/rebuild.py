"""Rebuild: events/s when selection rebuilds its read model from offset 0, beside a bare consumer.

The log is written straight to the applications and selection topics by a fast producer:
copies of a dossier's life (ApplicationSubmitted, then eligibility, opinion, committee,
decision, convention), valid envelopes the projection accepts. Then
`shared.kernel.projection.rebuild`
replays them into `selection_dossiers`. The fair ceiling is a bare consumer doing the same work
with no platform code: it reads the same topics from offset 0 to their end, decodes each
record's JSON, and bulk-writes the rows the rebuild left (known before it starts) of the
dossiers each batch of as many records as a rebuild's transaction touched: one multi-row upsert
and one commit per batch, `synchronous_commit` off as the rebuild has it. The bare consumer
reading alone, doing nothing with the records, stays reported.
"""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import asyncpg

from bench.context import Bench
from bench.lives import Lives, Record, publish
from bench.measure import now
from bench.results import Comparison, Outcome
from services.selection import projections
from services.selection.main import spec
from shared.kernel import db, topics
from shared.kernel.projection import EVENTS_PER_TRANSACTION, from_the_start, rebuild

TITLE = "Rebuild: events per second replayed into a read model from offset 0"
SERVICES = ("applications", "selection")


def lives_of(count: int) -> Iterator[Record]:
    """The records of whole dossiers' lives, `count` events or a few more."""
    lives = Lives(services=SERVICES)
    for _ in range(-(-count // lives.per_dossier)):
        yield from lives.records(uuid4())


async def bare_read(bootstrap: str, names: list[str]) -> tuple[int, float]:
    """Every record of the topics from offset 0 to their end: (records, seconds)."""
    start = now()
    async with from_the_start(bootstrap, names) as (reader, end):
        total = sum(end.values())
        seen = 0
        while seen < total:
            for records in (await reader.getmany(timeout_ms=1000)).values():
                seen += len(records)
    return seen, now() - start


async def bare_bulk(
    bootstrap: str, names: list[str], rebuilt: asyncpg.Pool, bare: asyncpg.Pool
) -> tuple[int, float]:
    """Every record read and its JSON decoded, the rows of its batch's dossiers bulk-written
    into `selection_dossiers` of another database (`bare`, same schema) as the rebuild left
    them in its own (`rebuilt`): (records, seconds)."""
    async with bare.acquire() as conn:
        typed = await conn.fetch(
            "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
            "WHERE attrelid = 'selection_dossiers'::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
        )
    columns = [r["attname"] for r in typed]
    rows: dict[bytes, tuple[Any, ...]] = {
        str(r["dossier_id"]).encode(): tuple(r)
        for r in await rebuilt.fetch(f"SELECT {', '.join(columns)} FROM selection_dossiers")
    }
    unnest = ", ".join(f"${i}::{r['type']}[]" for i, r in enumerate(typed, 1))
    upsert = (
        f"INSERT INTO selection_dossiers ({', '.join(columns)}) SELECT * FROM unnest({unnest}) "
        "ON CONFLICT (dossier_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    )

    async def write(keys: set[bytes]) -> None:
        batch = [rows[k] for k in keys if k in rows]
        if not batch:
            return
        async with bare.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute(upsert, *([list(c) for c in zip(*batch, strict=True)]))

    start = now()
    async with from_the_start(bootstrap, names) as (reader, end):
        total = sum(end.values())
        seen, keys, pending = 0, set(), 0
        while seen < total:
            for records in (await reader.getmany(timeout_ms=1000)).values():
                for record in records:
                    json.loads(record.value)
                    keys.add(record.key)
                seen += len(records)
                pending += len(records)
            if pending >= EVENTS_PER_TRANSACTION or (seen >= total and keys):
                await write(keys)
                keys, pending = set(), 0
    return seen, now() - start


class Progress:
    """Says how far a long replay went, every tenth of the way."""

    def __init__(self, what: str) -> None:
        self.what, self.said, self.start = what, 0, now()

    def __call__(self, seen: int, total: int) -> None:
        tenth = 10 * seen // total if total else 10
        if tenth > self.said:
            self.said = tenth
            rate = seen / (now() - self.start)
            print(
                f"[bench] {self.what}: {seen:,} of {total:,} events, {rate:,.0f} events/s",
                flush=True,
            )


async def measure(bench: Bench) -> Outcome:
    settings, count = bench.scoped("rebuild"), bench.sizes.rebuild_events
    topic_of = {
        service: topics.events_topic(settings.topic_prefix, service) for service in SERVICES
    }
    names = list(topic_of.values())
    await topics.ensure_topics(settings.kafka_bootstrap, names, settings.topic_partitions)
    produced = await publish(settings.kafka_bootstrap, topic_of, lives_of(count))
    seen, bare_seconds = await bare_read(settings.kafka_bootstrap, names)
    await db.provision(settings, "selection", spec().schema_sql)
    pool = await db.open_pool(settings, "selection", size=2)
    try:
        start = now()
        applied = await rebuild(
            pool,
            projections.dossiers(),
            bootstrap=settings.kafka_bootstrap,
            topics=names,
            progress=Progress("rebuild"),
        )
        rebuilt_seconds = now() - start
        rows = await pool.fetchval("SELECT count(*) FROM selection_dossiers")
        await db.provision(settings, "bare", spec().schema_sql)
        bare = await db.open_pool(settings, "bare", size=2)
        try:
            bulk_seen, bulk_seconds = await bare_bulk(settings.kafka_bootstrap, names, pool, bare)
        finally:
            await bare.close()
    finally:
        await pool.close()
    return Outcome(
        parameters={
            "events": seen,
            "dossiers": rows,
            "topics": len(names),
            "partitions": settings.topic_partitions,
        },
        comparisons=[
            Comparison(
                "events replayed into selection_dossiers",
                "events/s",
                seen / rebuilt_seconds,
                bulk_seen / bulk_seconds,
                "bare consumer: read, JSON decoded, the same rows bulk-written per batch",
            ),
            Comparison(
                "events replayed into selection_dossiers",
                "events/s",
                seen / rebuilt_seconds,
                seen / bare_seconds,
                "bare aiokafka consumer reading the same topics",
            ),
        ],
        figures={
            "events_applied": applied,
            "rebuild_seconds": round(rebuilt_seconds, 1),
            "log_written_at_events_per_s": round(produced),
        },
    )
