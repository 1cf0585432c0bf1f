"""The event store on the real PostgreSQL: streams, concurrency, hash chain, append-only."""

import json
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


@pytest.mark.parametrize(
    "content, refusal",
    [
        # larger than one Kafka record: the relay could never publish it, and every later
        # event of the service would wait behind it in the outbox
        ({"summary": "x" * (MAX_EVENT_BYTES + 1)}, "event_too_large"),
        # an integer beyond 64 bits: orjson writes none, and reads one back as a float, which
        # would change the event and break its hash
        ({"habitants": 2**64}, "event_unencodable"),
    ],
)
async def test_an_event_kafka_could_not_carry_is_refused_and_nothing_is_stored(
    kernel_pool, store, content, refusal
):
    # given an event that could not be published as it was written
    dossier = uuid4()
    event = DraftSaved(
        dossier_id=dossier, campaign_id="demo", siren="213186091", content=content, saved_at=NOW
    )
    # when it is appended, then it is refused naming why, and neither it nor its outbox row is kept
    with pytest.raises(Invalid) as refused:
        async with kernel_pool.acquire() as conn, conn.transaction():
            await store.append(conn, str(dossier), 0, [event], prev_hash=hashchain.GENESIS, now=NOW)
    assert refused.value.errors[0]["type"] == refusal
    async with kernel_pool.acquire() as conn:
        assert await store.load(conn, str(dossier)) == []
        outbox = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE headers->>'ce_subject' = $1", str(dossier)
        )
    assert outbox == 0


async def test_an_event_reads_back_from_the_store_and_the_outbox_as_it_was_hashed(
    kernel_pool, store
):
    # given an event whose JSON has what encoders write differently: escapes, separators, floats
    dossier = uuid4()
    content = {"nom": 'Alès\u2028«x»\x01"\\', "part": 1e-05, "n": [2**63 - 1, None, True]}
    draft = DraftSaved(
        dossier_id=dossier, campaign_id="demo", siren="213186091", content=content, saved_at=NOW
    )
    async with kernel_pool.acquire() as conn, conn.transaction():
        [appended] = await store.append(
            conn, str(dossier), 0, [draft], prev_hash=hashchain.GENESIS, now=NOW
        )
    # when it is read back from the store and from its outbox row
    async with kernel_pool.acquire() as conn:
        [loaded] = await store.load(conn, str(dossier))
        value = await conn.fetchval(
            "SELECT value FROM outbox WHERE headers->>'ce_subject' = $1", str(dossier)
        )
    # then both are the document that was hashed, and its hash still links
    assert loaded.data == appended.data == json.loads(value)
    assert loaded.data["content"] == content
    assert hashchain.matches(
        loaded.hash,
        hashchain.GENESIS,
        stream_id=str(dossier),
        version=1,
        event_id=str(loaded.event_id),
        event_type=loaded.event_type,
        occurred_at=loaded.occurred_at.isoformat(),
        data=loaded.data,
    )
