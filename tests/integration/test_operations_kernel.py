"""The kernel's operations hooks on the real servers: what the metrics count, what the gauges
sample, and a relay that stops after the batch in hand."""

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.kernel import db, topics
from shared.kernel.consumer import Consumer, consume_batch, consume_record
from shared.kernel.envelope import wrap
from shared.kernel.eventstore import EventStore
from shared.kernel.metrics import Samples
from shared.kernel.outbox import OutboxRelay
from shared.kernel.sampling import consumer_lag, sample
from shared.kernel.settings import Settings
from tests.conftest import own_namespace
from tests.helpers import wait_for
from tests.integration.conftest import KERNEL_SCHEMA, Pinged
from tests.integration.test_consumer_kernel import record_effect
from tests.integration.test_outbox_relay import committed

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def record_of(event: Pinged, offset: int = 0, *, event_id=None) -> ConsumerRecord:  # type: ignore[no-untyped-def]
    envelope = wrap(event, event_id=event_id or uuid4(), source="/aap/kernel-tests", time=NOW)
    return ConsumerRecord(
        "t.kernel.events",
        0,
        offset,
        0,
        0,
        str(event.dossier_id).encode(),
        envelope.value(),
        None,
        0,
        0,
        [(k, v.encode()) for k, v in envelope.headers().items()],
    )


async def test_each_record_is_counted_as_applied_duplicate_ignored_or_dead_lettered(kernel_pool):
    consumer = Consumer(f"outcomes-{uuid4().hex[:8]}", {Pinged: record_effect})
    dead: list[str] = []

    async def dead_letter(_: ConsumerRecord, reason: str) -> None:
        dead.append(reason)

    async def outcome(record: ConsumerRecord) -> str:
        return await consume_record(
            consumer, kernel_pool, record, dead_letter, retries=1, backoff_seconds=0
        )

    same = uuid4()
    first = record_of(Pinged(dossier_id=uuid4(), n=1), event_id=same)
    assert await outcome(first) == "applied"
    assert await outcome(first) == "duplicate"
    other = Consumer(consumer.name, {})  # a consumer with no handler for TestPinged
    assert (
        await consume_record(
            other, kernel_pool, record_of(Pinged(dossier_id=uuid4(), n=2)), dead_letter, retries=1
        )
        == "ignored"
    )
    assert await outcome(record_of(Pinged(dossier_id=uuid4(), n=13))) == "dead-lettered"
    assert len(dead) == 1


async def effects_of(pool, dossier_ids) -> list[int]:  # type: ignore[no-untyped-def]
    rows = await pool.fetch(
        "SELECT n FROM effects WHERE dossier_id = ANY($1::uuid[]) ORDER BY n", list(dossier_ids)
    )
    return [row["n"] for row in rows]


async def test_a_batch_is_applied_each_event_once_and_a_redelivered_batch_has_no_second_effect(
    kernel_pool,
):
    consumer = Consumer(f"batch-{uuid4().hex[:8]}", {Pinged: record_effect})
    dossiers = [uuid4() for _ in range(3)]
    same = uuid4()
    batch = [
        record_of(Pinged(dossier_id=dossiers[0], n=1), 0),
        record_of(Pinged(dossier_id=dossiers[1], n=2), 1, event_id=same),
        record_of(Pinged(dossier_id=dossiers[1], n=2), 2, event_id=same),  # published twice
        record_of(Pinged(dossier_id=dossiers[2], n=3), 3),
    ]

    async def dead_letter(_: ConsumerRecord, reason: str) -> None:
        raise AssertionError(reason)

    first = await consume_batch(consumer, kernel_pool, batch, dead_letter, retries=1)
    again = await consume_batch(consumer, kernel_pool, batch, dead_letter, retries=1)

    assert first == ["applied", "applied", "duplicate", "applied"]
    assert again == ["duplicate"] * 4
    assert await effects_of(kernel_pool, dossiers) == [1, 2, 3]


async def test_a_batch_with_a_failing_event_keeps_the_others_effects_and_dead_letters_it_alone(
    kernel_pool,
):
    consumer = Consumer(f"batch-{uuid4().hex[:8]}", {Pinged: record_effect})
    dossiers = [uuid4() for _ in range(3)]
    batch = [
        record_of(Pinged(dossier_id=dossiers[0], n=1), 0),
        record_of(Pinged(dossier_id=dossiers[1], n=13), 1),  # its handler fails
        record_of(Pinged(dossier_id=dossiers[2], n=3), 2),
    ]
    unreadable = record_of(Pinged(dossier_id=uuid4(), n=4), 3)
    unreadable = dataclasses.replace(unreadable, value=b"not json")
    dead: list[tuple[int, str]] = []

    async def dead_letter(record: ConsumerRecord, reason: str) -> None:
        dead.append((record.offset, reason))

    outcomes = await consume_batch(
        consumer, kernel_pool, [*batch, unreadable], dead_letter, retries=2, backoff_seconds=0
    )

    assert outcomes == ["applied", "dead-lettered", "applied", "dead-lettered"]
    assert [offset for offset, _ in dead] == [3, 1]  # the unreadable at once, then the failing
    assert "thirteen is unlucky" in dead[1][1]
    assert await effects_of(kernel_pool, dossiers) == [1, 3]


async def test_each_effect_of_a_batch_runs_within_what_the_runtime_wraps_around_its_record(
    kernel_pool,
):
    consumer = Consumer(f"batch-{uuid4().hex[:8]}", {Pinged: record_effect})
    batch = [record_of(Pinged(dossier_id=uuid4(), n=n), n) for n in (1, 2)]
    around: list[int] = []

    @contextmanager
    def within(record: ConsumerRecord) -> Iterator[None]:
        around.append(record.offset)
        yield

    async def dead_letter(_: ConsumerRecord, reason: str) -> None:
        raise AssertionError(reason)

    await consume_batch(consumer, kernel_pool, batch, dead_letter, retries=1, around=within)
    assert around == [1, 2]


async def test_a_stopping_relay_publishes_the_batch_in_hand_then_nothing(
    kernel_pool, store, producer
):
    published: list[str] = []
    relay = OutboxRelay(
        kernel_pool,
        producer,
        name=f"test-{uuid4()}",
        batch_size=1000,
        on_published=lambda rows, _: published.extend(rows),
    )
    await committed(kernel_pool, store, uuid4(), 1, 2, 3)

    in_hand = asyncio.create_task(relay.relay_once())
    await asyncio.sleep(0)  # the batch has begun: it holds the relay's batch lock
    await relay.stop()

    assert await in_hand >= 3 and len(published) >= 3
    await committed(kernel_pool, store, uuid4(), 4)
    assert await relay.relay_once() == 0


async def test_the_gauges_show_the_outbox_backlog_and_how_long_its_oldest_event_has_waited(
    settings: Settings, producer: AIOKafkaProducer
):
    async with own_namespace(settings) as own:
        await db.provision(own, "kernel", KERNEL_SCHEMA)
        topic = topics.events_topic(own.topic_prefix, "kernel")
        await topics.ensure_topics(own.kafka_bootstrap, [topic], own.topic_partitions)
        pool = await db.open_pool(own, "kernel", size=2)
        try:
            store = EventStore(source="/aap/kernel-tests", topic=topic)
            await committed(pool, store, uuid4(), 1, 2, 3)
            samples = Samples()

            await sample(samples, pool, list, datetime.now(UTC) + timedelta(seconds=10))
            assert samples.outbox_backlog == 3
            assert 10 <= samples.relay_delay_seconds < 60

            await OutboxRelay(pool, producer).relay_once()
            await sample(samples, pool, list, datetime.now(UTC))
            assert (samples.outbox_backlog, samples.relay_delay_seconds) == (0, 0.0)
        finally:
            await pool.close()


async def test_the_lag_is_what_the_group_has_not_committed_on_each_partition(
    settings: Settings, producer: AIOKafkaProducer, kernel_topics: None
):
    topic = topics.events_topic(settings.topic_prefix, "kernel")
    group = f"lag-{uuid4().hex[:8]}"
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        await wait_for(lambda: _assigned(reader), timeout=30, what="the partitions assigned")
        partition = TopicPartition(topic, 0)
        end = (await reader.end_offsets([partition]))[partition]
        await reader.commit({partition: end})
        for _ in range(4):
            await producer.send_and_wait(topic, b"{}", key=b"lag", partition=0)

        lag = await consumer_lag(group, reader)
        assert lag[(group, topic, 0)] == 4
        await reader.commit({partition: end + 1})
        assert (await consumer_lag(group, reader))[(group, topic, 0)] == 3
    finally:
        await reader.stop()


async def _assigned(reader: AIOKafkaConsumer) -> bool:
    await reader.getmany(timeout_ms=100)
    return bool(reader.assignment())
