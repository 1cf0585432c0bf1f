"""What every service runs: its database, its topics, its consumers, its outbox relay.

A service is described by a `ServiceSpec`; `Runtime` starts and stops the parts in order.
Nothing connects before `start`.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

from shared import db, topics
from shared.campaigns import Campaign, load_campaigns
from shared.consumer import Subscription, consume_record, dead_letter_headers
from shared.eventstore import EventStore
from shared.outbox import OutboxRelay, idempotent_producer, run_relay_forever
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    schema_sql: str
    subscriptions: Callable[["Runtime"], list[Subscription]] = lambda rt: []
    background: Sequence[Callable[["Runtime"], Awaitable[None]]] = ()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    pool: asyncpg.Pool | None = None
    broker: KafkaBroker | None = None
    producer: AIOKafkaProducer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def store(self) -> EventStore:
        return EventStore(source=f"/aap/{self.name}", topic=self.topic(self.name))

    def topic(self, service: str) -> str:
        return topics.events_topic(self.settings.topic_prefix, service)

    def db(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self.pool

    async def start(self) -> None:
        s = self.settings
        self.campaigns = load_campaigns(s.campaigns_dir)
        own = [topics.events_topic(s.topic_prefix, self.name), topics.dead_letter_topic(s.topic_prefix, self.name)]
        names = list(dict.fromkeys(topics.all_topics(s.topic_prefix) + own))
        await topics.ensure_topics(s.kafka_bootstrap, names, s.topic_partitions)
        await db.provision(s, self.name, self.spec.schema_sql)
        self.pool = await db.open_pool(s, self.name)
        self.broker = KafkaBroker(
            s.kafka_bootstrap,
            client_id=f"aap-{self.name}",
            acks="all",
            enable_idempotence=True,
            middlewares=[KafkaTelemetryMiddleware()],
        )
        for subscription in self.spec.subscriptions(self):
            self._subscribe(subscription)
        self.producer = idempotent_producer(s.kafka_bootstrap, f"aap-{self.name}-relay")
        await self.producer.start()
        relay = OutboxRelay(self.pool, self.producer, poll_seconds=s.relay_poll_seconds)
        self.tasks.append(asyncio.create_task(run_relay_forever(relay), name="outbox-relay"))
        for job in self.spec.background:
            self.tasks.append(asyncio.create_task(job(self), name=getattr(job, "__name__", "job")))
        await self.broker.start()

    async def stop(self) -> None:
        if self.broker is not None:
            await self.broker.stop()  # finishes the event in hand and commits its offset
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.producer is not None:
            await self.producer.stop()
        if self.pool is not None:
            await self.pool.close()

    async def readiness(self) -> dict[str, bool]:
        checks = {"database": False, "kafka": False}
        try:
            async with self.db().acquire() as conn:
                checks["database"] = await conn.fetchval("SELECT true")
        except Exception:
            pass
        checks["kafka"] = self.broker is not None and await self.broker.ping(timeout=2)
        return checks

    def _subscribe(self, subscription: Subscription) -> None:
        broker, consumer = self.broker, subscription.consumer
        assert broker is not None
        dead_letter_topic = topics.dead_letter_topic(self.settings.topic_prefix, self.name)

        async def dead_letter(record: ConsumerRecord, reason: str) -> None:
            log.error("%s: dead-lettering %s@%s/%s: %s", consumer.name, record.topic,
                      record.partition, record.offset, reason)
            await broker.publish(
                record.value or b"",
                dead_letter_topic,
                key=record.key,
                headers=dead_letter_headers(record, consumer.name, reason),
            )

        async def on_event(message: KafkaMessage) -> None:
            await consume_record(consumer, self.db(), message.raw_message, dead_letter,
                                 retries=self.settings.consumer_retries)

        broker.subscriber(
            *[self.topic(service) for service in subscription.services],
            group_id=f"{self.settings.topic_prefix}.{self.name}.{consumer.name}",
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"{self.name}.{consumer.name}",
        )(on_event)
