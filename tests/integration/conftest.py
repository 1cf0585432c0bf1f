"""Kernel fixtures: a database of its own and topics, on the real PostgreSQL and Kafka."""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from shared.contracts import DomainEvent, register
from shared.kernel import db, topics
from shared.kernel.eventstore import EventStore
from shared.kernel.outbox import idempotent_producer
from shared.kernel.settings import Settings

KERNEL_SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (
    event_id UUID NOT NULL, dossier_id UUID NOT NULL, n INT NOT NULL
);
CREATE TABLE IF NOT EXISTS tally (dossier_id UUID PRIMARY KEY, total INT NOT NULL);
"""


class Pinged(DomainEvent):
    """A small event of the tests' own."""

    name = "TestPinged"
    n: int


register(Pinged)


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
        [
            topics.events_topic(settings.topic_prefix, "kernel"),
            topics.dead_letter_topic(settings.topic_prefix, "kernel"),
        ],
        settings.topic_partitions,
    )


@pytest.fixture
async def producer(settings: Settings, kernel_topics: None) -> AsyncIterator[AIOKafkaProducer]:
    p = idempotent_producer(settings.kafka_bootstrap, "kernel-tests")
    await p.start()
    yield p
    await p.stop()
