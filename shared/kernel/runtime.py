"""What every service runs: its database, its topics, its consumers, its outbox relay.

A service is described by a `ServiceSpec`; `Runtime` starts and stops the parts in order.
Nothing connects before `start`.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import propagate, trace

from shared.kernel import db, health, idempotency, kafka_backoff, outages, topics
from shared.kernel.backoff import Backoff
from shared.kernel.blobs import Blobs, PostgresBlobs
from shared.kernel.clock import RehearsalClock, utc_now
from shared.kernel.consumer import Subscription, consume_batch, dead_letter_headers
from shared.kernel.eventstore import Appended, EventStore
from shared.kernel.metrics import Metrics, event_name
from shared.kernel.outbox import OutboxRelay, idempotent_producer, run_relay_forever
from shared.kernel.sampling import sample_forever
from shared.kernel.schedule import Handler, ScheduleRunner
from shared.kernel.settings import Settings
from shared.language.campaigns import Campaign, Campaigns
from shared.personal.vault import VAULT as vault_db
from shared.personal.vault import PostgresVault

log = logging.getLogger(__name__)
T = TypeVar("T")

SHUTDOWN_SECONDS = 15.0  # for the batch in hand, then for the relay's batch
BATCH_RECORDS = 200  # records a consumer applies in one transaction, at most
BATCH_WAIT_MS = 20  # how long a consumer with nothing to do waits before it looks again
STOP_SECONDS = 20.0  # the whole stop, under the 30 s an orchestrator waits before SIGKILL


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    schema_sql: str
    subscriptions: Callable[["Runtime"], list[Subscription]] = lambda rt: []
    background: Sequence[Callable[["Runtime"], Coroutine[Any, Any, None]]] = ()
    # The handlers of its scheduled jobs, by kind (shared/kernel/schedule.py).
    jobs: Callable[["Runtime"], Mapping[str, Handler]] = lambda rt: {}


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    campaigns: Mapping[str, Campaign] = field(default_factory=dict)
    pool: asyncpg.Pool | None = None
    broker: KafkaBroker | None = None
    producer: AIOKafkaProducer | None = None
    relay: OutboxRelay | None = None
    schedule: ScheduleRunner | None = None
    metrics: Metrics = field(default_factory=Metrics.discarded)
    blobs: Blobs = field(default_factory=PostgresBlobs)  # attachments' bytes, by SHA-256
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The connections that appended, until they are back in the pool: the relay's wake.
    appended: Appended = field(default_factory=Appended)
    store: EventStore = field(init=False)
    # The people's keys (shared.personal.vault), once started; not started, events are written
    # in clear and read with placeholders (tests of handlers).
    vault: PostgresVault | None = None
    vault_pool: asyncpg.Pool | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def __post_init__(self) -> None:
        self.store = EventStore(
            source=f"/aap/{self.name}", topic=self.topic(self.name), appended=self.appended
        )
        if self.settings.clock_offset_file and self.clock is utc_now:
            self.clock = RehearsalClock(self.settings.clock_offset_file)

    def topic(self, service: str) -> str:
        return topics.events_topic(self.settings.topic_prefix, service)

    def db(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self.pool

    async def start(self) -> None:
        """Connect the parts in order; a server not there yet is waited for (quietly, with a
        growing wait), a server that refuses the setup (a topic it will not create) stops it."""
        s = self.settings
        if isinstance(self.clock, RehearsalClock):
            log.warning(
                "%s runs on a rehearsal clock: real time shifted by the seconds in %s "
                "(now %s); never in production",
                self.name,
                s.clock_offset_file,
                self.clock().isoformat(),
            )
        self.campaigns = Campaigns(s.campaigns_dir)
        kafka_backoff.install()
        if s.provision_on_start:
            own = [
                topics.events_topic(s.topic_prefix, self.name),
                topics.dead_letter_topic(s.topic_prefix, self.name),
            ]
            names = list(dict.fromkeys(topics.all_topics(s.topic_prefix) + own))
            await _waiting_for("Kafka (topics)", lambda: topics.provision(s, names))
            await _waiting_for(
                "PostgreSQL (schema)", lambda: db.provision(s, self.name, self.spec.schema_sql)
            )
            await _waiting_for("PostgreSQL (vault)", lambda: db.provision_vault(s))
        self.pool = await _waiting_for(
            "PostgreSQL", lambda: db.open_pool(s, self.name, on_release=self.appended.released)
        )
        self.vault_pool = await _waiting_for(
            "PostgreSQL (vault)", lambda: db.open_pool(s, vault_db, size=4)
        )
        self.vault = self.store.vault = PostgresVault(self.vault_pool)
        self.broker = KafkaBroker(
            s.kafka_servers(),
            client_id=f"aap-{self.name}",
            acks="all",
            enable_idempotence=True,
            middlewares=[KafkaTelemetryMiddleware()],
            graceful_timeout=SHUTDOWN_SECONDS,
            retry_backoff_ms=kafka_backoff.RETRY_BACKOFF_MS,
            logger=logging.getLogger("faststream.kafka"),  # through the process's handler
            log_level=logging.DEBUG,  # its per-message lines; ours (below) say what was done
        )
        for subscription in self.spec.subscriptions(self):
            self._subscribe(subscription)
        self.producer = await _waiting_for("Kafka (producer)", self._new_producer)
        self.relay = OutboxRelay(
            self.pool,
            self.producer,
            poll_seconds=s.relay_poll_seconds,
            on_published=self.metrics.published,
            renew=self._new_producer,
            appended=self.appended,
        )
        self.tasks.append(asyncio.create_task(run_relay_forever(self.relay), name="outbox-relay"))
        jobs = self.spec.jobs(self)
        if jobs:
            self.schedule = ScheduleRunner(
                self.pool,
                jobs,
                clock=self.clock,
                poll_seconds=s.schedule_poll_seconds,
                on_run=self.metrics.job_ran,
            )
            self.tasks.append(asyncio.create_task(self.schedule.run(), name="schedule"))
        self.tasks.append(
            asyncio.create_task(
                sample_forever(
                    self.metrics.samples,
                    self.pool,
                    self.group_consumers,
                    s.metrics_interval_seconds,
                ),
                name="metrics-sampling",
            )
        )
        self.tasks.append(
            asyncio.create_task(idempotency.prune_forever(self.pool), name="idempotency-pruning")
        )
        for job in self.spec.background:
            self.tasks.append(asyncio.create_task(job(self), name=getattr(job, "__name__", "job")))
        await self.broker.start()  # its clients wait for Kafka on their own (kafka_backoff)

    async def _new_producer(self) -> AIOKafkaProducer:
        """The relay's producer: a fresh one after a failure (new producer id, sequences anew)."""
        producer = idempotent_producer(self.settings.kafka_bootstrap, f"aap-{self.name}-relay")
        await producer.start()
        self.producer = producer
        return producer

    async def stop(self) -> None:
        """Take no new event, finish the one in hand and commit its offset, let the relay
        finish its batch, then close everything: within STOP_SECONDS in all, Kafka or the
        database away or not. What could not finish is done again at the next start."""
        deadline = asyncio.get_running_loop().time() + STOP_SECONDS
        unfinished: list[str] = []

        async def within(what: str, step: Awaitable[object]) -> None:
            left = max(deadline - asyncio.get_running_loop().time(), 0.1)
            try:
                await asyncio.wait_for(step, left)
            except TimeoutError:
                unfinished.append(what)
            except Exception as error:  # a broker or a database already gone
                unfinished.append(f"{what} ({type(error).__name__})")

        if self.broker is not None:  # waits up to SHUTDOWN_SECONDS for the handler in hand
            await within("the consumers' last commits", self.broker.stop())
        if self.relay is not None:
            await within("the relay's batch", self.relay.stop())
        if self.schedule is not None:
            await within("the scheduled job in hand", self.schedule.stop())
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.producer is not None:  # an idempotent producer's flush has no deadline of its own
            await within("the producer's last batches", self.producer.stop())
        if self.pool is not None:
            await within("the database connections", self.pool.close())
        if self.vault_pool is not None:
            await within("the vault's connections", self.vault_pool.close())
        if unfinished:
            log.warning(
                "%s stopped in %s s, leaving unfinished: %s (done again at the next "
                "start: nothing is lost)",
                self.name,
                STOP_SECONDS,
                "; ".join(unfinished),
            )
        else:
            log.info(
                "%s stopped cleanly: consumers committed, relay idle, database closed", self.name
            )

    def group_consumers(self) -> list[tuple[str, AIOKafkaConsumer]]:
        return health.group_consumers(self.broker)

    def partitions(self) -> dict[str, list[str]]:
        return health.partitions(self.broker)

    async def readiness(self) -> dict[str, bool]:
        return await health.readiness(self.pool, self.broker)

    def _subscribe(self, subscription: Subscription) -> None:
        broker, consumer = self.broker, subscription.consumer
        assert broker is not None
        dead_letter_topic = topics.dead_letter_topic(self.settings.topic_prefix, self.name)

        async def dead_letter(record: ConsumerRecord, reason: str) -> None:
            log.error(
                "%s: dead-lettering %s@%s/%s: %s",
                consumer.name,
                record.topic,
                record.partition,
                record.offset,
                reason,
            )
            await broker.publish(
                record.value or b"",
                dead_letter_topic,
                key=record.key,
                headers=dead_letter_headers(record, consumer.name, reason),
            )
            self.metrics.dead_lettered(consumer.name, record.topic)

        async def on_batch(records: Any) -> None:  # ConsumerRecords, from raw_record
            spans = _Spans()
            outcomes = await consume_batch(
                consumer,
                self.db(),
                records,
                dead_letter,
                retries=self.settings.consumer_retries,
                vault=self.vault,
                around=spans.of,
            )
            for record, outcome in zip(records, outcomes, strict=True):
                headers = spans.headers(record)
                self.metrics.consumed(consumer.name, headers.get("ce_type", ""), outcome)
                if outcome == "ignored":  # an event this consumer has no handler for: counted
                    continue
                with spans.of(record):  # the line carries the trace id of the event's journey
                    log.info(
                        "%s: %s %s",
                        consumer.name,
                        outcome,
                        event_name(headers.get("ce_type", "")),
                        extra={
                            "event_id": headers.get("ce_id"),
                            "dossier_id": (record.key or b"").decode(),
                            "topic": record.topic,
                            "partition": record.partition,
                            "offset": record.offset,
                        },
                    )
            spans.end()

        broker.subscriber(
            *[self.topic(service) for service in subscription.services],
            group_id=f"{self.settings.topic_prefix}.{self.name}.{consumer.name}",
            group_instance_id=self.settings.instance_id or None,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"{self.name}.{consumer.name}",
            decoder=raw_record,
            # What the broker has at hand, applied in one transaction and acknowledged with one
            # offset commit; an event alone waits for nothing more (at most BATCH_WAIT_MS idle).
            batch=True,
            max_records=BATCH_RECORDS,
            batch_timeout_ms=BATCH_WAIT_MS,
        )(on_batch)


class _Spans:
    """A span for each record of a batch, its parent the event's own trace context (W3C
    headers): the trace begun by the request goes on through each event's effect, as it
    would one event at a time."""

    def __init__(self) -> None:
        self._spans: dict[int, trace.Span] = {}
        self._headers: dict[int, dict[str, str]] = {}

    def headers(self, record: ConsumerRecord) -> dict[str, str]:
        """The record's headers as text, decoded once for its span, its metrics and its log."""
        decoded = self._headers.get(id(record))
        if decoded is None:
            decoded = self._headers[id(record)] = {
                k: v.decode("utf-8", "replace") for k, v in record.headers
            }
        return decoded

    @contextmanager
    def of(self, record: ConsumerRecord) -> Iterator[None]:
        span = self._spans.get(id(record))
        if span is None:
            span = self._spans[id(record)] = _tracer().start_span(
                f"{record.topic} process",
                context=propagate.extract(self.headers(record)),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.kafka.destination.partition": record.partition,
                    "messaging.kafka.message.offset": record.offset,
                },
            )
        with trace.use_span(span, end_on_exit=False):
            yield

    def end(self) -> None:
        for span in self._spans.values():
            span.end()


def _tracer() -> trace.Tracer:
    return trace.get_tracer("aap.consumer")


# The failures that mean "not there yet": the server is not up, or not reachable.
_NOT_YET = (KafkaConnectionError, *outages.DATABASE_AWAY)


async def _waiting_for(what: str, step: Callable[[], Awaitable[T]]) -> T:
    waiting = Backoff(what, first=0.5, logger=log)
    while True:
        try:
            done = await step()
        except _NOT_YET as error:
            await waiting.pause(error)
            continue
        waiting.succeeded()
        return done


async def raw_record(message: Any) -> ConsumerRecord:
    """The subscriber's decoder: the Kafka record itself. The kernel reads the envelope from
    it; asking FastStream for its `KafkaMessage` context instead costs a thread hop per event
    (bench/profiles/README.md)."""
    return message.raw_message
