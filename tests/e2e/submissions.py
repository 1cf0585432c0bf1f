"""Submissions put straight on the applications topic, as the applications service would."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn, Dossier
from shared.kernel import topics
from shared.kernel.envelope import wrap
from shared.kernel.outbox import idempotent_producer
from shared.kernel.settings import Settings
from tests.factories import eligible_dossier


def submitted(number: int) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=uuid4(),
        reference=f"AAP-DEMO-{number:05d}",
        campaign_id="demo",
        submitted_at=datetime.now(UTC),
        dossier=Dossier.model_validate(eligible_dossier()),
    )


def withdrawn(submission: ApplicationSubmitted) -> ApplicationWithdrawn:
    return ApplicationWithdrawn(
        dossier_id=submission.dossier_id,
        reference=submission.reference,
        campaign_id="demo",
        withdrawn_at=datetime.now(UTC),
        reason="Le conseil municipal a retiré le projet.",
    )


async def publish(settings: Settings, events: list[DomainEvent]) -> None:
    """Each event keyed by its dossier, in the given order, acknowledged by Kafka."""
    topic = topics.events_topic(settings.topic_prefix, "applications")
    producer: AIOKafkaProducer = idempotent_producer(settings.kafka_bootstrap, "operations-tests")
    await producer.start()
    try:
        for event in events:
            envelope = wrap(
                event, event_id=uuid4(), source="/aap/applications", time=datetime.now(UTC)
            )
            await producer.send(
                topic,
                envelope.value(),
                key=str(event.dossier_id).encode(),
                headers=[(k, v.encode()) for k, v in envelope.headers().items()],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def processed(settings: Settings, service: str, consumer: str) -> list[asyncpg.Record]:
    """The tracking rows of one consumer: what it applied, where it read it, when."""
    conn = await asyncpg.connect(settings.admin_dsn(service))
    try:
        return await conn.fetch(
            "SELECT event_id, topic, kafka_partition, kafka_offset, processed_at "
            "FROM processed_events WHERE consumer = $1",
            consumer,
        )
    finally:
        await conn.close()


async def checked_dossiers(settings: Settings) -> dict[UUID, int]:
    """How many EligibilityChecked each dossier's selection stream holds."""
    conn = await asyncpg.connect(settings.admin_dsn("selection"))
    try:
        rows = await conn.fetch(
            "SELECT stream_id, count(*) AS n FROM events "
            "WHERE event_type LIKE '%EligibilityChecked%' GROUP BY stream_id"
        )
    finally:
        await conn.close()
    return {UUID(r["stream_id"]): r["n"] for r in rows}
