"""Samples for the gauges, taken every few seconds: consumer lag, outbox backlog, relay delay."""

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer

from shared.kernel.backoff import Backoff
from shared.kernel.metrics import Samples

log = logging.getLogger(__name__)

# Every outbox row is unpublished (the relay deletes what Kafka acknowledged); its event's
# `recorded_at` is the wall-clock time it was written.
_OUTBOX = """
SELECT (SELECT count(*) FROM outbox) AS backlog,
       (SELECT COALESCE(e.recorded_at, (o.headers->>'ce_time')::timestamptz)
        FROM outbox o LEFT JOIN events e ON e.event_id = (o.headers->>'ce_id')::uuid
        ORDER BY o.tx, o.position LIMIT 1) AS oldest
"""

GroupConsumers = Callable[[], Sequence[tuple[str, AIOKafkaConsumer]]]


async def consumer_lag(group: str, consumer: AIOKafkaConsumer) -> dict[tuple[str, str, int], int]:
    """End offset minus committed offset, for each partition this instance holds."""
    assigned = sorted(consumer.assignment())
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    lag = {}
    for tp in assigned:
        committed = await consumer.committed(tp) or 0
        lag[(group, tp.topic, tp.partition)] = max(ends[tp] - committed, 0)
    return lag


async def sample(
    samples: Samples, pool: asyncpg.Pool, consumers: GroupConsumers, now: datetime
) -> None:
    lag: dict[tuple[str, str, int], int] = {}
    for group, consumer in consumers():
        lag.update(await consumer_lag(group, consumer))
    async with pool.acquire() as conn:
        outbox = await conn.fetchrow(_OUTBOX)
    samples.lag = lag
    samples.outbox_backlog = outbox["backlog"]
    oldest = outbox["oldest"]
    samples.relay_delay_seconds = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


async def sample_forever(
    samples: Samples, pool: asyncpg.Pool, consumers: GroupConsumers, interval: float
) -> None:
    failing = Backoff("the metrics' samples (lag, backlog, relay delay)", logger=log)
    while True:
        try:
            await sample(samples, pool, consumers, datetime.now(UTC))
            failing.succeeded()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the gauges keep their last values until the next sample
            failing.failed(error)  # said once, at the first failure
        await asyncio.sleep(interval)
