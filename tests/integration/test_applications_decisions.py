"""Applications hears the President's decision, on the real PostgreSQL: an amendment it took
before hearing it (the two crossed on the bus) is set aside, and a command that read no decision
never interleaves with the consumer recording one."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.applications import decisions, handlers
from services.applications import main as applications_main
from services.applications.commands import Amend
from services.applications.domain import DOSSIER
from services.applications.errors import AlreadyDecided
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    Dossier,
)
from shared.contracts.selection import DecidedOn, Outcome, SelectionDecided
from shared.kernel import db, topics
from shared.kernel.aggregate import run
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.kernel.settings import Settings
from shared.language.actors import Actor, Role
from shared.language.campaigns import load_campaigns
from tests.factories import eligible_dossier

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
CAMPAIGNS = load_campaigns()
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.gouv.fr")


@pytest.fixture(scope="module")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, "decisions_applications", applications_main.spec().schema_sql)
    opened = await db.open_pool(settings, "decisions_applications")
    yield opened
    await opened.close()
    await db.drop_database(settings, "decisions_applications")


@pytest.fixture
def store(settings: Settings) -> EventStore:
    return EventStore(
        source="/aap/applications", topic=topics.events_topic(settings.topic_prefix, "applications")
    )


async def filed_and_asked(
    pool: asyncpg.Pool, store: EventStore
) -> tuple[ApplicationSubmitted, Actor]:
    """A dossier filed, and a correction of its amount asked."""
    dossier = Dossier.model_validate(eligible_dossier())
    applicant = Actor(Role.applicant, "maire@example.fr", siren=dossier.applicant.siren)
    [stored] = await handlers.submit_dossier(
        pool, store, CAMPAIGNS["demo"], dossier, applicant, NOW
    )
    filed = stored.event()
    assert isinstance(filed, ApplicationSubmitted)
    await handlers.request_correction(
        pool, store, filed.dossier_id, INSTRUCTOR, ["requested_eur"],
        "Le montant ne correspond pas au budget.", None, CAMPAIGNS, NOW,
    )  # fmt: skip
    return filed, applicant


def decided(filed: ApplicationSubmitted, on: UUID | None) -> SelectionDecided:
    return SelectionDecided(
        dossier_id=filed.dossier_id,
        reference=filed.reference,
        campaign_id=filed.campaign_id,
        siren=filed.dossier.applicant.siren,
        departement=filed.dossier.applicant.departement,
        outcome=Outcome.selected,
        requested_eur=filed.dossier.requested_eur,
        granted_eur=Decimal("1000.00"),
        motivation="Plan global, partenariat solide.",
        decided_at=NOW + timedelta(hours=1),
        decided_on=DecidedOn(amendment=on),
    )


async def heard(
    pool: asyncpg.Pool, store: EventStore, decision: SelectionDecided
) -> list[StoredEvent]:
    """As the decisions consumer hears it: in a transaction of its own."""
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.hear_decision(
            conn, store, decision, NOW + timedelta(hours=2), uuid4()
        )


async def stream(pool: asyncpg.Pool, store: EventStore, dossier_id: UUID) -> list[object]:
    async with pool.acquire() as conn:
        return [s.event() for s in await store.load(conn, str(dossier_id))]


async def test_an_amendment_taken_before_the_decision_was_heard_is_set_aside(pool, store):
    filed, applicant = await filed_and_asked(pool, store)
    # the collectivité lowers its request: applications has not heard the decision yet
    [amendment] = await handlers.amend(
        pool, store, filed.dossier_id, applicant, {"requested_eur": "500.00"}, NOW
    )
    amended = amendment.event()
    assert isinstance(amended, ApplicationAmended)
    # then it hears the President's decision, taken on the dossier as filed
    [set_aside] = [s.event() for s in await heard(pool, store, decided(filed, None))]
    assert isinstance(set_aside, AmendmentsSetAside)
    assert set_aside.request_ids == [amended.request_id]
    assert set_aside.dossier == filed.dossier
    assert (await stream(pool, store, filed.dossier_id))[-1] == set_aside
    assert await heard(pool, store, decided(filed, None)) == []  # heard again: nothing more


async def test_a_decision_on_the_amended_dossier_sets_nothing_aside(pool, store):
    filed, applicant = await filed_and_asked(pool, store)
    [amendment] = await handlers.amend(
        pool, store, filed.dossier_id, applicant, {"requested_eur": "500.00"}, NOW
    )
    amended = amendment.event()
    assert isinstance(amended, ApplicationAmended)
    assert await heard(pool, store, decided(filed, amended.request_id)) == []


async def test_once_the_decision_is_heard_an_amendment_is_refused(pool, store):
    filed, applicant = await filed_and_asked(pool, store)
    await heard(pool, store, decided(filed, None))
    with pytest.raises(AlreadyDecided):
        await handlers.amend(
            pool, store, filed.dossier_id, applicant, {"requested_eur": "5.00"}, NOW
        )


async def test_a_command_that_read_no_decision_commits_before_the_decision_is_recorded(pool, store):
    filed, applicant = await filed_and_asked(pool, store)
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        # an amendment under way: it read no decision...
        assert await decisions.of(conn, filed.dossier_id) is None
        # ...when the decision comes: recording it waits for the amendment's transaction
        hearing = asyncio.create_task(heard(pool, store, decided(filed, None)))
        await asyncio.sleep(0.5)
        assert not hearing.done()
        command = Amend(applicant, filed.dossier_id, {"requested_eur": "500.00"}, NOW, None)
        await run(conn, store, DOSSIER, filed.dossier_id, command, now=NOW, actor="applicant")
        await transaction.commit()
    # and, once it committed, sees the amendment, and sets it aside
    [set_aside] = [s.event() for s in await asyncio.wait_for(hearing, 10)]
    assert isinstance(set_aside, AmendmentsSetAside)
    assert set_aside.dossier == filed.dossier
