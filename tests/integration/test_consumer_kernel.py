"""The consumer kernel on the real Kafka and PostgreSQL: one effect per event, dead letters."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from shared.kernel import topics
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope, wrap
from shared.kernel.projection import digest, rebuild
from shared.kernel.runtime import Runtime, ServiceSpec
from tests.helpers import read_topic, wait_for
from tests.integration.conftest import KERNEL_SCHEMA, Pinged

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def record_effect(conn: asyncpg.Connection, event: Pinged, envelope: Envelope) -> None:
    if event.n == 13:
        raise ValueError("thirteen is unlucky")
    await conn.execute(
        "INSERT INTO effects VALUES ($1, $2, $3)", envelope.id, event.dossier_id, event.n
    )


def tally_of(dossiers: set[UUID]):  # type: ignore[no-untyped-def]
    async def add_to_tally(conn: asyncpg.Connection, event: Pinged, _: Envelope) -> None:
        if event.dossier_id in dossiers:  # the topic also carries the other tests' events
            await conn.execute(
                "INSERT INTO tally VALUES ($1, $2) "
                "ON CONFLICT (dossier_id) DO UPDATE SET total = tally.total + $2",
                event.dossier_id,
                event.n,
            )

    return add_to_tally


@pytest.fixture
async def running(
    settings, kernel_pool, kernel_topics
) -> AsyncIterator[Callable[[Subscription], object]]:
    runtimes: list[Runtime] = []

    async def start(subscription: Subscription) -> Runtime:
        spec = ServiceSpec("kernel", KERNEL_SCHEMA, lambda rt: [subscription])
        rt = Runtime(spec, settings)
        await rt.start()
        runtimes.append(rt)
        return rt

    yield start
    for rt in runtimes:
        await rt.stop()


async def send(
    producer: AIOKafkaProducer, topic: str, event: Pinged, event_id: UUID | None = None
) -> UUID:
    envelope = wrap(event, event_id=event_id or uuid4(), source="/aap/kernel-tests", time=NOW)
    await producer.send_and_wait(
        topic,
        envelope.value(),
        key=str(event.dossier_id).encode(),
        headers=[(k, v.encode()) for k, v in envelope.headers().items()],
    )
    return envelope.id


async def effects_of(pool: asyncpg.Pool, dossier: UUID) -> list[int]:
    async with pool.acquire() as conn:
        return [
            r["n"]
            for r in await conn.fetch(
                "SELECT n FROM effects WHERE dossier_id = $1 ORDER BY n", dossier
            )
        ]


def effects_consumer() -> Subscription:
    return Subscription(Consumer(f"effects-{uuid4().hex[:8]}", {Pinged: record_effect}), ["kernel"])


async def test_a_redelivered_event_has_one_effect(running, kernel_pool, producer, topic):
    await running(effects_consumer())
    dossier = uuid4()
    same = uuid4()
    await send(producer, topic, Pinged(dossier_id=dossier, n=1), same)
    await send(producer, topic, Pinged(dossier_id=dossier, n=1), same)  # redelivered
    await send(producer, topic, Pinged(dossier_id=dossier, n=2))  # comes after both
    await wait_for(lambda: _has(kernel_pool, dossier, 2), what="the event after the duplicate")
    assert await effects_of(kernel_pool, dossier) == [1, 2]


async def _has(pool: asyncpg.Pool, dossier: UUID, n: int) -> bool:
    return n in await effects_of(pool, dossier)


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_consumer_carries_on(
    running, settings, kernel_pool, producer, topic
):
    await running(effects_consumer())
    dossier = uuid4()
    poison = f"not an event {uuid4()}".encode()
    await producer.send_and_wait(topic, poison, key=str(dossier).encode())
    await send(producer, topic, Pinged(dossier_id=dossier, n=5))
    await wait_for(lambda: _has(kernel_pool, dossier, 5), what="the event after the poison")
    dlq = topics.dead_letter_topic(settings.topic_prefix, "kernel")
    records = await read_topic(settings, dlq, lambda rs: any(r.value == poison for r in rs))
    [dead] = [r for r in records if r.value == poison]
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["aap_dlq_reason"].startswith("unreadable")
    assert headers["aap_dlq_topic"] == topic


async def test_an_event_whose_handler_keeps_failing_is_dead_lettered_after_bounded_retries(
    running, settings, kernel_pool, producer, topic
):
    await running(effects_consumer())
    dossier = uuid4()
    unlucky = await send(producer, topic, Pinged(dossier_id=dossier, n=13))
    await send(producer, topic, Pinged(dossier_id=dossier, n=14))
    await wait_for(lambda: _has(kernel_pool, dossier, 14), what="the event after the failing one")
    dlq = topics.dead_letter_topic(settings.topic_prefix, "kernel")
    records = await read_topic(
        settings,
        dlq,
        lambda rs: any(dict(r.headers).get("ce_id") == str(unlucky).encode() for r in rs),
    )
    [dead] = [r for r in records if dict(r.headers).get("ce_id") == str(unlucky).encode()]
    reason = dict(dead.headers)["aap_dlq_reason"].decode()
    assert f"after {settings.consumer_retries} attempt(s)" in reason
    assert "thirteen is unlucky" in reason
    assert await effects_of(kernel_pool, dossier) == [14]


async def test_a_rebuilt_projection_equals_the_live_one(
    running, settings, kernel_pool, producer, topic
):
    dossiers = [uuid4() for _ in range(5)]
    tally = Subscription(
        Consumer(f"tally-{uuid4().hex[:8]}", {Pinged: tally_of(set(dossiers))}),
        ["kernel"],
        read_models=["tally"],
    )
    rt = await running(tally)
    for i, dossier in enumerate(dossiers):
        for n in range(1, 4):
            await send(producer, topic, Pinged(dossier_id=dossier, n=n * (i + 1)))

    async def all_counted() -> bool:
        async with kernel_pool.acquire() as conn:
            totals = await conn.fetch("SELECT dossier_id, total FROM tally")
        return {r["dossier_id"]: r["total"] for r in totals} == {
            d: 6 * (i + 1) for i, d in enumerate(dossiers)
        }

    await wait_for(all_counted, what="the live projection")
    live = await digest(kernel_pool, ["tally"])
    await rt.stop()  # a rebuild runs with the service's live consumers stopped
    await rebuild(kernel_pool, tally, bootstrap=settings.kafka_bootstrap, topics=[topic])
    assert await digest(kernel_pool, ["tally"]) == live
