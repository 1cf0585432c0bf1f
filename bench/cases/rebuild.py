"""Rebuild: events/s when selection rebuilds its read model from offset 0, beside a bare consumer.

The log is written straight to the applications and selection topics by a fast producer:
copies of a dossier's life (ApplicationSubmitted, then eligibility, opinion, committee,
decision, convention), valid envelopes the projection accepts. Then
`shared.kernel.projection.rebuild`
replays them into `selection_dossiers`; the ceiling is an aiokafka consumer reading the same
topics from offset 0 to their end, doing nothing with the records.
"""

from collections.abc import Iterator
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

from bench.context import Bench
from bench.lives import Lives, Record, publish
from bench.measure import now
from bench.results import Comparison, Outcome
from services.selection import projections
from services.selection.main import spec
from shared.kernel import db, topics
from shared.kernel.projection import rebuild

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
    reader = AIOKafkaConsumer(
        *names,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        partitions = sorted(reader.assignment())
        await reader.seek_to_beginning(*partitions)
        total = sum((await reader.end_offsets(partitions)).values())
        seen = 0
        while seen < total:
            for records in (await reader.getmany(timeout_ms=1000)).values():
                seen += len(records)
    finally:
        await reader.stop()
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
                seen / bare_seconds,
                "bare aiokafka consumer reading the same topics",
            )
        ],
        figures={
            "events_applied": applied,
            "rebuild_seconds": round(rebuilt_seconds, 1),
            "log_written_at_events_per_s": round(produced),
        },
    )
