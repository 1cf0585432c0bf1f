"""Readiness of a running service: its database and Kafka answer, its consumers are in their
groups."""

import asyncio

import asyncpg
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

PROBE_SECONDS = 2.0  # a readiness probe answers within this, whatever is down


def group_consumers(broker: KafkaBroker | None) -> list[tuple[str, AIOKafkaConsumer]]:
    """The Kafka consumer of each subscriber, with its group; none before the broker starts."""
    subscribers = broker.subscribers if broker is not None else []
    # FastStream's Kafka subscribers keep their group and aiokafka consumer as attributes.
    return [
        (sub.group_id, sub.consumer)  # type: ignore[attr-defined]
        for sub in subscribers
        if getattr(sub, "consumer", None) is not None
    ]


def partitions(broker: KafkaBroker | None) -> dict[str, list[str]]:
    """What this instance holds in each of its groups, as topic/partition."""
    return {
        group: [f"{tp.topic}/{tp.partition}" for tp in sorted(consumer.assignment())]
        for group, consumer in group_consumers(broker)
    }


def consumers_joined(broker: KafkaBroker | None) -> bool:
    """Every subscriber is in its group with an assignment, not in the middle of a rebalance.

    An assignment may be empty (more instances than partitions): that instance is ready and
    takes partitions over when another leaves.
    """
    expected = len(broker.subscribers) if broker is not None else 0
    joined = [
        consumer
        for _, consumer in group_consumers(broker)
        # aiokafka keeps this state private; pinned version, checked by the tests.
        if not consumer._subscription.reassignment_in_progress
    ]
    return len(joined) == expected


async def database_answers(pool: asyncpg.Pool | None) -> bool:
    if pool is None:
        return False
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            async with pool.acquire() as conn:
                return bool(await conn.fetchval("SELECT true"))
    except Exception:
        return False


async def kafka_answers(broker: KafkaBroker | None) -> bool:
    return broker is not None and await broker.ping(timeout=PROBE_SECONDS)


async def readiness(pool: asyncpg.Pool | None, broker: KafkaBroker | None) -> dict[str, bool]:
    database, kafka = await asyncio.gather(database_answers(pool), kafka_answers(broker))
    return {"database": database, "kafka": kafka, "consumers": consumers_joined(broker)}
