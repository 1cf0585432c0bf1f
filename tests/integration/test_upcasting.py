"""Events written in an older version, replayed from the log: the read model reads them upcast."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from services.notifications import main, projections
from shared.contracts import DomainEvent
from shared.contracts.notifications import NotificationSent, NotificationSentV1
from shared.kernel import db, topics
from shared.kernel.envelope import wrap
from shared.kernel.projection import rebuild
from shared.kernel.settings import Settings
from tests.conftest import own_namespace

MAIRE, PREFECTURE = "maire@roubaix.example.fr", "chef-de-projet-mildeca-59@example.gouv.fr"


@pytest.fixture(scope="module")
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    async with own_namespace(settings) as own:
        yield own


@pytest.fixture(scope="module")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, "notifications", main.spec().schema_sql)
    pool = await db.open_pool(settings, "notifications")
    yield pool
    await pool.close()


async def published(settings: Settings, events: list[DomainEvent]) -> str:
    """The records of the notifications topic, as the service that wrote them made them."""
    topic = topics.events_topic(settings.topic_prefix, "notifications")
    await topics.ensure_topics(settings.kafka_bootstrap, [topic], settings.topic_partitions)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            envelope = wrap(
                event, event_id=uuid4(), source="/aap/notifications", time=datetime.now(UTC)
            )
            await producer.send_and_wait(
                topic,
                envelope.value(),
                key=str(event.dossier_id).encode(),
                headers=[(k, v.encode()) for k, v in envelope.headers().items()],
            )
    finally:
        await producer.stop()
    return topic


async def test_notifications_written_in_version_1_are_in_the_read_model_rebuilt_from_offset_0(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    # given a topic holding NotificationSent as version 1 wrote it, then as version 2 writes it
    now = datetime.now(UTC)
    old = NotificationSentV1(
        dossier_id=uuid4(),
        notification_id=f"n-{uuid4()}",
        template="eligible",
        recipients=[MAIRE, PREFECTURE],
        message_id="<old@aap>",
        sent_at=now,
    )
    new = NotificationSent(
        dossier_id=uuid4(),
        notification_id=f"n-{uuid4()}",
        template="convention_signed",
        to=[MAIRE],
        cc=[PREFECTURE],
        message_id="<new@aap>",
        sent_at=now,
    )
    topic = await published(settings, [old, new])
    # when the notification log is replayed from offset 0 (`aap rebuild notifications`)
    applied = await rebuild(
        pool, projections.notification_log(), bootstrap=settings.kafka_bootstrap, topics=[topic]
    )
    # then both versions are in the read model, the old one read as the latest
    assert applied == 2
    async with pool.acquire() as conn:
        rows = {r["notification_id"]: r for r in await conn.fetch("SELECT * FROM notification_log")}
    assert rows[old.notification_id]["recipients"] == f"{MAIRE}, {PREFECTURE}"
    assert rows[old.notification_id]["template"] == "eligible"
    assert rows[old.notification_id]["message_id"] == "<old@aap>"
    assert rows[new.notification_id]["recipients"] == f"{MAIRE}, {PREFECTURE}"
    assert rows[new.notification_id]["dossier_id"] == new.dossier_id
