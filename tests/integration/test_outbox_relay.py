"""The outbox relay on the real PostgreSQL and Kafka: published iff committed, none lost."""

import asyncio
import random
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from shared.kernel import db
from shared.kernel.eventstore import Appended, EventStore, head_hash
from shared.kernel.outbox import OutboxRelay, OutboxRow
from shared.kernel.settings import Settings
from tests.helpers import event_ids, read_topic
from tests.integration.conftest import Pinged

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def write(conn: asyncpg.Connection, store: EventStore, dossier: UUID, *ns: int) -> list[str]:
    history = await store.load(conn, str(dossier))
    stored = await store.append(
        conn,
        str(dossier),
        len(history),
        [Pinged(dossier_id=dossier, n=n) for n in ns],
        prev_hash=head_hash(history),
        now=NOW,
    )
    return [str(e.event_id) for e in stored]


async def committed(pool: asyncpg.Pool, store: EventStore, dossier: UUID, *ns: int) -> list[str]:
    async with pool.acquire() as conn, conn.transaction():
        return await write(conn, store, dossier, *ns)


async def drain(relay: OutboxRelay) -> None:
    while await relay.relay_once():
        pass


def relay_for(pool: asyncpg.Pool, producer: AIOKafkaProducer) -> OutboxRelay:
    # Each test relays under a cursor of its own, as a fresh relay would.
    return OutboxRelay(pool, producer, name=f"test-{uuid4()}", batch_size=7)


async def test_a_committed_event_is_published_with_its_cloudevents_headers(
    settings, kernel_pool, store, producer, topic
):
    dossier = uuid4()
    [event_id] = await committed(kernel_pool, store, dossier, 1)
    await drain(relay_for(kernel_pool, producer))
    records = await read_topic(settings, topic, lambda rs: event_id in event_ids(rs))
    [record] = [r for r in records if dict(r.headers).get("ce_id", b"").decode() == event_id]
    headers = {k: v.decode() for k, v in record.headers}
    assert record.key == str(dossier).encode()
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "fr.gouv.mildeca.aap.TestPinged.v1"
    assert headers["ce_subject"] == str(dossier)
    assert headers["ce_source"] == "/aap/kernel-tests"
    assert headers["content-type"] == "application/json"


async def test_a_rolled_back_event_is_never_published(
    settings, kernel_pool, store, producer, topic
):
    dossier, witness = uuid4(), uuid4()
    async with kernel_pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        [lost] = await write(conn, store, dossier, 1)
        await tx.rollback()
    [seen] = await committed(kernel_pool, store, witness, 1)
    await drain(relay_for(kernel_pool, producer))
    records = await read_topic(settings, topic, lambda rs: seen in event_ids(rs))
    assert lost not in event_ids(records)


class RelayKilled(BaseException):
    """Stands for the process dying: nothing after it runs."""


async def test_a_relay_killed_between_publish_and_mark_loses_nothing(
    settings, kernel_pool, store, producer, topic
):
    dossier = uuid4()
    ids = await committed(kernel_pool, store, dossier, *range(1, 16))
    name = f"test-{uuid4()}"
    doomed = OutboxRelay(kernel_pool, producer, name=name, batch_size=10)

    async def die(_: OutboxRow) -> None:
        raise RelayKilled

    doomed.mark = die  # type: ignore[method-assign]
    try:
        await doomed.relay_once()
    except RelayKilled:
        pass
    await drain(OutboxRelay(kernel_pool, producer, name=name, batch_size=10))  # the restart
    records = await read_topic(settings, topic, lambda rs: set(ids) <= set(event_ids(rs, dossier)))
    published = event_ids(records, dossier)
    deduplicated = list(dict.fromkeys(published))
    assert deduplicated == ids  # every event, in the dossier's order
    assert len(published) > len(ids)  # the first batch went out twice: readers dedup by id


async def test_a_relay_stopped_with_batches_in_flight_moves_its_cursor_past_the_acknowledged_only(
    settings, kernel_pool, store, producer, topic
):
    dossier = uuid4()
    ids = await committed(kernel_pool, store, dossier, *range(1, 26))
    name = f"test-{uuid4()}"
    doomed = OutboxRelay(kernel_pool, producer, name=name, batch_size=5)
    marked: list[int] = []
    mark = doomed.mark

    async def dies_at_the_third(last: OutboxRow) -> None:
        if len(marked) == 2:  # the third batch acknowledged, the fourth sent already
            raise RelayKilled
        await mark(last)
        marked.append(last.position)

    doomed.mark = dies_at_the_third  # type: ignore[method-assign]
    try:
        await doomed.relay_once()
    except RelayKilled:
        pass
    assert len(marked) == 2  # two batches marked, in order, in one pass
    async with kernel_pool.acquire() as conn:
        cursor = await conn.fetchval("SELECT position FROM outbox_cursor WHERE relay = $1", name)
    assert cursor == marked[-1]
    await drain(OutboxRelay(kernel_pool, producer, name=name, batch_size=5))  # the restart
    records = await read_topic(settings, topic, lambda rs: set(ids) <= set(event_ids(rs, dossier)))
    assert list(dict.fromkeys(event_ids(records, dossier))) == ids  # every event, in order


async def test_a_transaction_committing_after_a_later_one_is_not_skipped(
    settings, kernel_pool, store, producer, topic
):
    early, late = uuid4(), uuid4()
    relay = relay_for(kernel_pool, producer)
    async with kernel_pool.acquire() as slow:
        tx = slow.transaction()
        await tx.start()
        [first] = await write(slow, store, early, 1)  # takes the smaller position, commits last
        [second] = await committed(kernel_pool, store, late, 1)
        await drain(relay)  # sees `late` committed while `early` is still open
        await tx.commit()
    await drain(relay)
    records = await read_topic(settings, topic, lambda rs: {first, second} <= set(event_ids(rs)))
    assert {first, second} <= set(event_ids(records))


async def test_concurrent_writers_committing_out_of_order_lose_nothing(
    settings, kernel_pool, store, producer, topic
):
    dossiers = [uuid4() for _ in range(8)]
    relay = relay_for(kernel_pool, producer)
    written: dict[UUID, list[str]] = {d: [] for d in dossiers}
    done = asyncio.Event()

    async def writer(dossier: UUID) -> None:
        for n in range(10):
            async with kernel_pool.acquire() as conn, conn.transaction():
                ids = await write(conn, store, dossier, n)
                await asyncio.sleep(random.uniform(0, 0.02))  # commit at a random moment
            written[dossier].extend(ids)

    async def relaying() -> None:
        while not done.is_set():
            await relay.relay_once()
            await asyncio.sleep(0.005)
        await drain(relay)

    relay_task = asyncio.create_task(relaying())
    await asyncio.gather(*(writer(d) for d in dossiers))
    done.set()
    await relay_task
    everything = {i for ids in written.values() for i in ids}
    records = await read_topic(settings, topic, lambda rs: everything <= set(event_ids(rs)))
    for dossier in dossiers:  # none lost, and each dossier's events in their order
        assert list(dict.fromkeys(event_ids(records, dossier))) == written[dossier]


async def test_a_transaction_that_got_its_id_before_reading_the_stream_publishes_after_it(
    settings, kernel_pool, store, producer, topic
):
    dossier = uuid4()
    relay = relay_for(kernel_pool, producer)
    async with kernel_pool.acquire() as early:
        tx = early.transaction()
        await tx.start()
        await early.execute("SELECT pg_current_xact_id()")  # an id taken before the stream is read
        [v1] = await committed(kernel_pool, store, dossier, 1)  # another writer appends version 1
        [v2] = await write(early, store, dossier, 2)  # then this one appends version 2
        await tx.commit()
    await drain(relay)
    records = await read_topic(settings, topic, lambda rs: {v1, v2} <= set(event_ids(rs)))
    assert event_ids(records, dossier) == [v1, v2]


async def test_a_commit_of_this_process_wakes_the_relay_without_waiting_for_its_poll(
    settings: Settings, kernel_pool, topic, producer
):
    appended = Appended()
    pool = await db.open_pool(settings, "kernel", size=4, on_release=appended.released)
    store = EventStore(source="/aap/kernel-tests", topic=topic, appended=appended)
    published: asyncio.Queue[int] = asyncio.Queue()
    relay = OutboxRelay(
        pool,
        producer,
        name=f"test-{uuid4()}",
        poll_seconds=3600,  # only a wake can make it look again
        on_published=lambda topics, _: published.put_nowait(len(topics)),
        appended=appended,
    )
    running = asyncio.create_task(relay.run())
    try:
        await committed(pool, store, uuid4(), 1)
        await asyncio.wait_for(published.get(), 10)  # in the first look, or woken
        while not published.empty():
            published.get_nowait()
        await committed(pool, store, uuid4(), 1)
        assert await asyncio.wait_for(published.get(), 5) == 1
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await pool.close()


async def test_rows_held_back_by_an_older_transaction_go_soon_after_it_ends_without_a_wake(
    kernel_pool, store, producer
):
    published: asyncio.Queue[int] = asyncio.Queue()
    relay = OutboxRelay(
        kernel_pool,
        producer,
        name=f"test-{uuid4()}",
        poll_seconds=3600,  # neither a poll nor a wake makes it look again
        on_published=lambda topics, _: published.put_nowait(len(topics)),
    )
    await drain(relay)  # what earlier tests left in the outbox
    while not published.empty():
        published.get_nowait()
    async with kernel_pool.acquire() as older:
        tx = older.transaction()
        await tx.start()
        await older.execute("SELECT pg_current_xact_id()")  # an id below the row's
        await committed(kernel_pool, store, uuid4(), 1)
        running = asyncio.create_task(relay.run())
        try:
            await asyncio.sleep(0.3)
            assert published.empty() and relay.held  # committed, behind the older transaction
            await tx.rollback()
            assert await asyncio.wait_for(published.get(), 5) >= 1
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def test_a_relay_whose_send_fails_leaves_no_read_of_the_next_rows_running(
    settings, kernel_pool, store, producer, topic
):
    dossier = uuid4()
    ids = await committed(kernel_pool, store, dossier, *range(1, 11))
    name = f"test-{uuid4()}"
    doomed = OutboxRelay(kernel_pool, producer, name=name, batch_size=5)
    reads: list[asyncio.Task[list[OutboxRow]]] = []
    fetch, send = doomed.fetch, doomed._send

    async def fetch_seen(after: OutboxRow | None = None) -> list[OutboxRow]:
        if after is not None:
            reads.append(asyncio.current_task())  # type: ignore[arg-type]
            await asyncio.sleep(0.2)  # the next rows are still being read when the send fails
        return await fetch(after)

    async def fails(rows: list[OutboxRow]) -> Any:
        await asyncio.sleep(0)
        raise KafkaConnectionError("the broker went away")

    doomed.fetch = fetch_seen  # type: ignore[method-assign]
    doomed._send = fails  # type: ignore[method-assign]
    with pytest.raises(KafkaConnectionError):
        await doomed.relay_once()
    assert reads and all(read.done() for read in reads)  # cancelled, not left behind
    async with kernel_pool.acquire() as conn:
        assert await conn.fetchval("SELECT 1 FROM outbox_cursor WHERE relay = $1", name) is None
    doomed._send = send  # type: ignore[method-assign]
    await drain(doomed)
    records = await read_topic(settings, topic, lambda rs: set(ids) <= set(event_ids(rs, dossier)))
    assert list(dict.fromkeys(event_ids(records, dossier))) == ids
