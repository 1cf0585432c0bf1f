"""The event store on the real PostgreSQL: streams, concurrency, hash chain, append-only."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from shared.contracts.applications import DraftSaved
from shared.kernel import hashchain
from shared.kernel.eventstore import MAX_EVENT_BYTES, ConcurrencyConflict, EventStore, head_hash
from shared.kernel.settings import Settings
from shared.language.errors import Invalid
from tests.integration.conftest import Pinged

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def append(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier: UUID,
    expected: int,
    *ns: int,
    prev: str = hashchain.GENESIS,
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await store.append(
            conn,
            str(dossier),
            expected,
            [Pinged(dossier_id=dossier, n=n) for n in ns],
            prev_hash=prev,
            now=NOW,
        )


async def test_a_stream_reads_back_its_events_in_order(kernel_pool, store):
    dossier = uuid4()
    await append(kernel_pool, store, dossier, 0, 1, 2, 3)
    async with kernel_pool.acquire() as conn:
        events = await store.load(conn, str(dossier))
    assert [e.version for e in events] == [1, 2, 3]
    assert [e.event().n for e in events] == [1, 2, 3]


async def test_two_writers_of_one_version_collide(kernel_pool, store):
    dossier = uuid4()
    await append(kernel_pool, store, dossier, 0, 1)
    with pytest.raises(ConcurrencyConflict):
        await append(kernel_pool, store, dossier, 0, 2)


async def test_each_event_is_chained_to_the_previous_one(kernel_pool, store):
    dossier = uuid4()
    await append(kernel_pool, store, dossier, 0, 1, 2)
    async with kernel_pool.acquire() as conn:
        first, second = await store.load(conn, str(dossier))
    assert first.prev_hash == hashchain.GENESIS
    assert second.prev_hash == first.hash
    recomputed = hashchain.link(
        first.hash,
        stream_id=second.stream_id,
        version=2,
        event_id=str(second.event_id),
        event_type=second.event_type,
        occurred_at=second.occurred_at.isoformat(),
        data=second.data,
    )
    assert recomputed == second.hash == head_hash([first, second])


async def test_the_application_role_cannot_rewrite_history(kernel_pool, store):
    dossier = uuid4()
    await append(kernel_pool, store, dossier, 0, 1)
    async with kernel_pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE events SET data = '{}' WHERE stream_id = $1", str(dossier))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM events WHERE stream_id = $1", str(dossier))


async def test_even_the_owner_cannot_rewrite_history_by_accident(
    settings: Settings, kernel_pool, store
):
    dossier = uuid4()
    await append(kernel_pool, store, dossier, 0, 1)
    conn = await asyncpg.connect(settings.admin_dsn("kernel"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM events WHERE stream_id = $1", str(dossier))
    finally:
        await conn.close()


async def test_an_append_outside_a_transaction_is_refused(kernel_pool, store):
    dossier = uuid4()
    async with kernel_pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await store.append(
                conn,
                str(dossier),
                0,
                [Pinged(dossier_id=dossier, n=1)],
                prev_hash=hashchain.GENESIS,
                now=NOW,
            )


async def test_an_event_kafka_could_not_carry_is_refused_and_nothing_is_stored(kernel_pool, store):
    # given an event larger than one Kafka record: the relay could never publish it, and every
    # later event of the service would wait behind it in the outbox
    dossier = uuid4()
    huge = DraftSaved(
        dossier_id=dossier,
        campaign_id="demo",
        siren="213186091",
        content={"summary": "x" * (MAX_EVENT_BYTES + 1)},
        saved_at=NOW,
    )
    # when it is appended, then it is refused naming why, and neither it nor its outbox row is kept
    with pytest.raises(Invalid) as refused:
        async with kernel_pool.acquire() as conn, conn.transaction():
            await store.append(conn, str(dossier), 0, [huge], prev_hash=hashchain.GENESIS, now=NOW)
    assert refused.value.errors[0]["type"] == "event_too_large"
    async with kernel_pool.acquire() as conn:
        assert await store.load(conn, str(dossier)) == []
        outbox = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE headers->>'ce_subject' = $1", str(dossier)
        )
    assert outbox == 0
