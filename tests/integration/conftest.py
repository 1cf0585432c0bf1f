"""Kernel fixtures: a database of its own and topics, on the real PostgreSQL and Kafka."""

from collections.abc import AsyncIterator, Callable
from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from shared import db, topics
from shared.contracts import DomainEvent
from shared.eventstore import EventStore
from shared.outbox import idempotent_producer
from shared.settings import Settings
from tests.conftest import wait_for

KERNEL_SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (event_id UUID NOT NULL, dossier_id UUID NOT NULL, n INT NOT NULL);
CREATE TABLE IF NOT EXISTS tally (dossier_id UUID PRIMARY KEY, total INT NOT NULL);
"""


class Pinged(DomainEvent):
    """A small event of the tests' own."""

    name = "TestPinged"
    n: int


@pytest.fixture(scope="session")
async def kernel_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, "kernel", KERNEL_SCHEMA)
    pool = await db.open_pool(settings, "kernel", size=30)
    yield pool
    await pool.close()


@pytest.fixture
def topic(settings: Settings) -> str:
    return topics.events_topic(settings.topic_prefix, "kernel")


@pytest.fixture
def store(topic: str) -> EventStore:
    return EventStore(source="/aap/kernel-tests", topic=topic)


@pytest.fixture(scope="session")
async def kernel_topics(settings: Settings) -> None:
    await topics.ensure_topics(
        settings.kafka_bootstrap,
        [topics.events_topic(settings.topic_prefix, "kernel"),
         topics.dead_letter_topic(settings.topic_prefix, "kernel")],
        settings.topic_partitions,
    )


@pytest.fixture
async def producer(settings: Settings, kernel_topics: None) -> AsyncIterator[AIOKafkaProducer]:
    p = idempotent_producer(settings.kafka_bootstrap, "kernel-tests")
    await p.start()
    yield p
    await p.stop()


async def read_topic(settings: Settings, topic: str,
                     until: Callable[[list[ConsumerRecord]], bool],
                     timeout: float = 30.0) -> list[ConsumerRecord]:
    """Every record of a topic from offset 0, once `until` is satisfied by them."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                              auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    records: list[ConsumerRecord] = []
    try:
        async def enough() -> bool:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return until(records)

        await wait_for(enough, timeout=timeout, what=f"records on {topic}")
    finally:
        await reader.stop()
    return records


def event_ids(records: list[ConsumerRecord], dossier_id: UUID | None = None) -> list[str]:
    """The ce_id of each record (of one dossier, when given), in log order."""
    out = []
    for r in records:
        headers = dict(r.headers)
        if "ce_id" not in headers:
            continue  # a poison message some test put on the topic
        if dossier_id is None or r.key == str(dossier_id).encode():
            out.append(headers["ce_id"].decode())
    return out
