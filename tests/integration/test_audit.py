"""The auditor on the real PostgreSQL: a dossier's history from the four event stores, and
tampering with a stored event — changed byte, deleted row, swapped versions — located."""

import importlib
from collections.abc import AsyncIterator
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import pytest

from shared import audit
from shared.audit.events import SERVICES
from shared.kernel import db, topics
from shared.kernel.eventstore import EventStore, head_hash
from shared.kernel.settings import Settings
from tests.conftest import own_namespace
from tests.unit.test_audit_history import DECIDED, SECOND, Life, a_whole_life

Pools = dict[str, asyncpg.Pool]


@pytest.fixture(scope="module")
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    """A namespace of its own: what these tests do to the stores, no running service sees."""
    async with own_namespace(settings) as own:
        yield own


@pytest.fixture(scope="module")
async def pools(settings: Settings) -> AsyncIterator[Pools]:
    opened: Pools = {}
    for service in SERVICES:
        spec = importlib.import_module(f"services.{service}.main").spec()
        await db.provision(settings, service, spec.schema_sql)
        opened[service] = await db.open_pool(settings, service, size=4)
    yield opened
    for pool in opened.values():
        await pool.close()


async def recorded(settings: Settings, pools: Pools, life: Life) -> dict[UUID, UUID]:
    """Append the life's events through each service's EventStore; their ids as stored."""
    stored_ids: dict[UUID, UUID] = {}
    for e in life.events:
        store = EventStore(
            source=f"/aap/{e.service}", topic=topics.events_topic(settings.topic_prefix, e.service)
        )
        metadata = {"actor": e.actor or ""}
        if e.causation_id:
            metadata["causation_id"] = str(stored_ids[UUID(e.causation_id)])
        async with pools[e.service].acquire() as conn, conn.transaction():
            history = await store.load(conn, e.stream_id)
            [stored] = await store.append(
                conn,
                e.stream_id,
                len(history),
                [e.event()],
                prev_hash=head_hash(history),
                now=e.occurred_at,
                metadata=metadata,
            )
        stored_ids[e.event_id] = stored.event_id
    return stored_ids


async def tampered(settings: Settings, service: str, *statements: tuple[str, ...]) -> None:
    """What an attacker with the superuser's password could do: lift the append-only guard."""
    conn = await asyncpg.connect(settings.admin_dsn(service))
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
            for sql, *args in statements:
                await conn.execute(sql, *args)
            await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
    finally:
        await conn.close()


async def breaks_of(pools: Pools, service: str, dossier: UUID) -> list[tuple[int, str]]:
    breaks = await audit.verify_store(pools[service], service, chunk=5)
    return [(b.version, b.what) for b in breaks if b.stream_id == str(dossier)]


async def test_a_dossiers_whole_history_comes_back_in_order_across_the_stores(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    stored_ids = await recorded(settings, pools, life)

    events = await audit.history(pools, life.dossier_id)

    assert [e.type for e in events] == [e.type for e in life.events]
    assert [e.event_id for e in events] == [stored_ids[e.event_id] for e in life.events]
    assert [e.actor for e in events] == [e.actor for e in life.events]
    signed, committed = (
        next(e for e in events if e.type == t) for t in ("ConventionSigned", "FundsCommitted")
    )
    assert committed.causation_id == str(signed.event_id)
    assert audit.verify_streams(events) == []


async def test_the_history_as_of_an_instant_stops_at_it(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)

    events = await audit.history(pools, life.dossier_id, as_of=DECIDED)

    assert events[-1].type == "SelectionDecided" and all(e.occurred_at <= DECIDED for e in events)
    assert audit.verify_streams(events) == []


async def test_the_envelope_at_an_instant_counts_the_campaigns_decisions_until_then(
    settings, pools
):
    campaign = f"c-{uuid4().hex[:8]}"
    first, second = (
        a_whole_life(campaign, granted="100000.00"),
        a_whole_life(campaign, granted="50000.00"),
    )
    await recorded(settings, pools, first)
    await recorded(settings, pools, second)
    envelope = await audit.campaign_envelope(
        pools["selection"], campaign, Decimal("400000.00"), DECIDED
    )
    # Both decisions are at DECIDED: the instant includes them; a second before, neither.
    assert envelope.remaining(DECIDED) == Decimal("250000.00")
    assert envelope.remaining(DECIDED - SECOND) == Decimal("400000.00")
    state = audit.as_of(await audit.history(pools, first.dossier_id), DECIDED - SECOND, envelope)
    assert state.envelope_remaining_eur == Decimal("400000.00")


async def test_every_chain_of_an_untouched_store_holds(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    seen: list[tuple[int, int]] = []
    breaks = await audit.verify_store(
        pools["selection"], "selection", lambda n, total: seen.append((n, total)), chunk=3
    )
    assert [b for b in breaks if b.stream_id == str(life.dossier_id)] == []
    assert seen[-1][0] == seen[-1][1] >= 10


async def test_a_changed_byte_in_a_stored_event_is_located(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    decided = life.of("SelectionDecided")
    await tampered(
        settings,
        "selection",
        (
            "UPDATE events SET data = jsonb_set(data, '{granted_eur}', '\"220000.00\"') "
            "WHERE stream_id = $1 AND version = $2",
            decided.stream_id,
            decided.version,
        ),
    )
    assert await breaks_of(pools, "selection", life.dossier_id) == [(decided.version, "changed")]


async def test_a_changed_actor_in_a_stored_event_is_located(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    await tampered(
        settings,
        "payments",
        (
            "UPDATE events SET metadata = jsonb_set(metadata, '{actor}', '\"president:x\"') "
            "WHERE stream_id = $1 AND version = 2",
            str(life.dossier_id),
        ),
    )
    assert await breaks_of(pools, "payments", life.dossier_id) == [(2, "changed")]


async def test_a_deleted_row_is_located(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    await tampered(
        settings,
        "selection",
        ("DELETE FROM events WHERE stream_id = $1 AND version = 4", str(life.dossier_id)),
    )
    assert await breaks_of(pools, "selection", life.dossier_id) == [(4, "missing")]


async def test_swapped_versions_are_located(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    stream = str(life.dossier_id)
    move = "UPDATE events SET version = $3 WHERE stream_id = $1 AND version = $2"
    await tampered(
        settings,
        "selection",
        (move, stream, 4, 1000),
        (move, stream, 5, 4),
        (move, stream, 1000, 5),
    )
    assert await breaks_of(pools, "selection", life.dossier_id) == [
        (4, "reordered"),
        (5, "reordered"),
    ]


async def test_the_append_only_guard_stands_again_after_the_attack(settings, pools):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    conn = await asyncpg.connect(settings.admin_dsn("applications"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM events WHERE stream_id = $1", str(life.dossier_id))
    finally:
        await conn.close()
