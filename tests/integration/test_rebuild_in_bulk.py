"""A rebuild folds each batch in memory and writes it in bulk: the read models it leaves are those
of the same events applied one after the other, as the live consumer applies them."""

import random
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord

from bench.lives import life
from services.selection import main, projections
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationWithdrawn, DossierClosedIncomplete
from shared.contracts.committee import (
    CommitteeSessionDecided,
    CommitteeSessionHeld,
    Conflict,
    NoConflictDeclared,
    ReviewerAssigned,
    ReviewerRecused,
    ReviewSubmitted,
    SessionDossier,
)
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionOverdue,
    GrantReleased,
    OpinionOverdue,
    Party,
)
from shared.kernel import db
from shared.kernel.envelope import unwrap, wrap
from shared.kernel.projection import _apply, digest
from shared.kernel.settings import Settings

TABLES = [*projections.dossiers().read_models, "withdrawals"]
REVIEWERS = ["a@mildeca.example.fr", "b@mildeca.example.fr", "c@mildeca.example.fr"]
START = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
async def pools(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two databases with selection's schema: one applied event by event, one in bulk."""
    names = [f"fold-{uuid4().hex[:8]}" for _ in range(2)]
    opened = []
    for name in names:
        await db.provision(settings, name, main.spec().schema_sql)
        opened.append(await db.open_pool(settings, name, size=2))
    yield opened[0], opened[1]
    for pool, name in zip(opened, names, strict=True):
        await pool.close()
        await db.drop_database(settings, name)


def variant(event: DomainEvent, **changes: Any) -> DomainEvent:
    return type(event).model_validate({**event.model_dump(), **changes})


def events_of(dossier_id: UUID, rng: random.Random) -> list[Callable[[], DomainEvent]]:
    """What may happen to a dossier, each time with other values: a later write must win."""
    at = START + timedelta(minutes=rng.randrange(10_000))
    lived = life(dossier_id, at)
    model = [*lived["applications"], *lived["selection"]]
    same = {"dossier_id": dossier_id, "reference": model[0].reference, "campaign_id": "demo"}

    def when() -> datetime:
        return START + timedelta(seconds=rng.randrange(10**7))

    def copied(event: DomainEvent) -> Callable[[], DomainEvent]:
        def made() -> DomainEvent:
            changes: dict[str, Any] = {
                name: when()
                for name, value in event.model_dump().items()
                if isinstance(value, datetime)
            }
            if isinstance(event, CommitteeAssessmentRecorded):
                changes["weighted_score"] = Decimal(rng.randrange(500)) / 100
            return variant(event, **changes)

        return made

    def reviewer() -> str:
        return rng.choice(REVIEWERS)

    scores = lived["selection"][3].model_dump()["scores"]
    return [
        *(copied(e) for e in model),
        lambda: ApplicationWithdrawn(**same, withdrawn_at=when(), reason="Projet retiré."),
        lambda: DossierClosedIncomplete(
            **same, request_id=uuid4(), motivation="Pièces manquantes.", closed_at=when()
        ),
        lambda: GrantReleased(
            **same, released_eur=Decimal(rng.randrange(10**6)), released_at=when()
        ),
        lambda: OpinionOverdue(**same, departement="59", due_at=when(), recorded_at=when()),
        lambda: ConventionOverdue(
            **same, unsigned=[list(Party)[-1]], due_at=when(), recorded_at=when()
        ),
        lambda: ReviewerAssigned(
            **same, reviewer=reviewer(), assigned_by="instructor:x", assigned_at=when()
        ),
        lambda: NoConflictDeclared(**same, reviewer=reviewer(), declared_at=when()),
        lambda: ReviewerRecused(
            **same,
            reviewer=reviewer(),
            conflict=rng.choice(list(Conflict)),
            details="Un lien familial.",
            recused_at=when(),
        ),
        lambda: ReviewSubmitted(
            **same,
            reviewer=reviewer(),
            scores=scores,
            weighted_score=Decimal(rng.randrange(500)) / 100,
            proposed_eur=Decimal(rng.randrange(10**6)),
            comment="Solide.",
            reviewed_at=when(),
        ),
    ]


def sessions_of(dossiers: list[UUID], rng: random.Random) -> list[Callable[[], DomainEvent]]:
    session_id = uuid4()
    ranked = [
        SessionDossier(
            dossier_id=d, reference="AAP-X", weighted_score=Decimal("3.00"), proposed_eur=1
        )
        for d in dossiers[:2]
    ]
    same = {"dossier_id": session_id, "session_id": session_id, "campaign_id": "demo"}
    return [
        lambda: CommitteeSessionHeld(
            **same,
            title="Séance",
            held_at=START + timedelta(days=rng.randrange(30)),
            moderator="instructor:x",
            members_present=rng.sample(REVIEWERS, 2),
            dossiers=ranked,
            minutes="Le comité s'est réuni.",
            recorded_at=START,
        ),
        lambda: CommitteeSessionDecided(
            **same,
            decisions=[],
            granted_total_eur=Decimal(rng.randrange(10**6)),
            envelope_eur=Decimal(10**7),
            granted_before_eur=0,
            decided_at=START + timedelta(days=rng.randrange(30)),
        ),
    ]


def random_log(seed: int, count: int) -> Iterator[ConsumerRecord]:
    """`count` records over a few dossiers, in any order, each type many times; now and then an
    event delivered twice (the same event id, the relay sent it again)."""
    rng = random.Random(seed)
    dossiers = [uuid4() for _ in range(6)]
    choices = [m for d in dossiers for m in events_of(d, rng)]
    choices += [m for _ in range(2) for m in sessions_of(dossiers, rng)]
    previous = None
    for offset in range(count):
        if previous is not None and rng.random() < 0.03:
            envelope = previous
        else:
            event = rng.choice(choices)()
            envelope = wrap(event, event_id=uuid4(), source="/aap/tests", time=START)
        previous = envelope
        value = envelope.value()
        headers = [(k, v.encode()) for k, v in envelope.headers().items()]
        yield ConsumerRecord("t", 0, offset, 0, 0, None, value, None, 0, len(value), headers)


async def state(pool: asyncpg.Pool) -> tuple[str, list[tuple[Any, ...]]]:
    tracked = await pool.fetch(
        "SELECT event_id, kafka_offset FROM processed_events ORDER BY event_id"
    )
    return await digest(pool, TABLES), [tuple(r) for r in tracked]


@pytest.mark.parametrize("seed", range(4))
async def test_a_log_rebuilt_in_bulk_equals_the_same_log_applied_event_by_event(pools, seed):
    one_by_one, in_bulk = pools
    consumer = projections.dossiers().consumer
    log = list(random_log(seed, 600))
    # given the log applied as the live consumer applies it, one event per transaction
    async with one_by_one.acquire() as conn:
        for record in log:
            async with conn.transaction():
                await consumer.apply_in(conn, unwrap(record.headers, record.value), record)
    # when the same log is rebuilt in batches of any size, each written in bulk
    rng, at = random.Random(seed), 0
    while at < len(log):
        size = rng.choice([1, 2, 7, 50, 200])
        await _apply(in_bulk, consumer, log[at : at + size])
        at += size
    # then the read models and their tracking rows are the same
    assert await state(in_bulk) == await state(one_by_one)
    dossiers = await in_bulk.fetchval("SELECT count(*) FROM selection_dossiers")
    signed = await in_bulk.fetchval(
        "SELECT count(*) FROM selection_dossiers WHERE jsonb_array_length(signatures) > 1"
    )
    seats = await in_bulk.fetchval(
        "SELECT count(*) FROM committee_reviewers WHERE declared_at IS NOT NULL"
    )
    assert dossiers == 6 and signed and seats  # the log did write each kind of row


async def test_tracking_rows_are_copied_in_bulk_only_when_none_is_there_yet(pools):
    _, pool = pools
    consumer = projections.dossiers().consumer
    first, second = list(random_log(0, 2))
    tracked = [(unwrap(r.headers, r.value), r) for r in (first, second)]
    async with pool.acquire() as conn, conn.transaction():
        assert await consumer.track(conn, *tracked[0])
    later = ConsumerRecord("t", 0, 99, 0, 0, None, first.value, None, 0, 0, first.headers)
    # the first event again, at a later offset (the relay sent it again), then the second
    again = [(tracked[0][0], later), tracked[1]]
    async with pool.acquire() as conn, conn.transaction():
        assert not await consumer.copy_tracking(conn, again)  # undone: nothing copied
        assert await conn.fetchval("SELECT count(*) FROM processed_events") == 1
        assert await consumer.track_many(conn, again) == {tracked[1][0].id}
    rows = await pool.fetch("SELECT event_id, kafka_offset FROM processed_events")
    assert {(r["event_id"], r["kafka_offset"]) for r in rows} == {
        (tracked[0][0].id, 0),  # tracked where it was first applied
        (tracked[1][0].id, 1),
    }
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM processed_events")
        assert await consumer.copy_tracking(conn, again)
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 2
