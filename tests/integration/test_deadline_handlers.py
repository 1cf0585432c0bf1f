"""Selection's and payments' deadlines on the real PostgreSQL: planned from the events that set
them, run by the schedule through the services' own handlers, each job's events in the dossier's
stream; cancelled by the act they wait for."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services.payments import handlers as payments
from services.payments import main as payments_main
from services.payments.commands import CommitFunds
from services.selection import handlers as selection
from services.selection import main as selection_main
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.payments import FundsCommitted
from shared.contracts.selection import (
    ConventionSigned,
    Opinion,
    Outcome,
    PrefectureOpinionRequested,
    Scores,
    SelectionDecided,
)
from shared.kernel import db, schedule, topics
from shared.kernel.eventstore import EventStore, read_stream
from shared.kernel.schedule import ScheduleRunner
from shared.kernel.settings import Settings
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign, load_campaigns
from tests.factories import eligible_dossier

PARIS = ZoneInfo("Europe/Paris")
MAY = datetime(2024, 5, 2, 9, 0, tzinfo=PARIS)
JUNE = datetime(2024, 6, 20, 15, 0, tzinfo=PARIS)
DAY = timedelta(days=1)
PREFECTURE = Actor(Role.prefecture, "chef-de-projet@nord.example.gouv.fr", departement="59")
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.gouv.fr")
PRESIDENT = Actor(Role.president, "president@mildeca.example.gouv.fr")
SCORES = Scores(
    adequacy=4, innovation=3, team_competence=5, methodology=2, partnership=4, prefecture_opinion=5
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def campaigns() -> dict[str, Campaign]:
    """The 2024 edition under an id of its own (an envelope of its own)."""
    edition = load_campaigns()["mildeca-2024"].model_copy(update={"id": f"t-{uuid4().hex[:8]}"})
    return {edition.id: edition}


async def pool_of(settings: Settings, name: str, schema: str) -> asyncpg.Pool:
    await db.provision(settings, name, schema)
    return await db.open_pool(settings, name)


@pytest.fixture(scope="module")
async def selection_db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await pool_of(settings, "deadlines_selection", selection_main.spec().schema_sql)
    yield pool
    await pool.close()
    await db.drop_database(settings, "deadlines_selection")


@pytest.fixture(scope="module")
async def payments_db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await pool_of(settings, "deadlines_payments", payments_main.spec().schema_sql)
    yield pool
    await pool.close()
    await db.drop_database(settings, "deadlines_payments")


def store_of(settings: Settings, service: str) -> EventStore:
    return EventStore(
        source=f"/aap/{service}", topic=topics.events_topic(settings.topic_prefix, service)
    )


async def stream(pool: asyncpg.Pool, dossier_id: UUID) -> list[str]:
    async with pool.acquire() as conn:
        return [e.event_type.split(".")[-2] for e in await read_stream(conn, str(dossier_id))]


async def pending(pool: asyncpg.Pool, dossier_id: UUID) -> list[str]:
    async with pool.acquire() as conn:
        return [job.kind for job in await schedule.pending(conn, str(dossier_id))]


async def asked(
    pool: asyncpg.Pool, store: EventStore, campaigns: dict[str, Campaign]
) -> PrefectureOpinionRequested:
    """A dossier checked eligible in May, its opinion asked, its deadline planned (as the
    `deadlines` consumer does when it hears the request)."""
    [campaign] = campaigns.values()
    submitted = ApplicationSubmitted(
        dossier_id=uuid4(),
        reference=f"AAP-2024-{uuid4().int % 100000:05d}",
        campaign_id=campaign.id,
        submitted_at=MAY - DAY,
        dossier=Dossier.model_validate(eligible_dossier()),
    )
    async with pool.acquire() as conn, conn.transaction():
        stored = await selection.check_eligibility(conn, store, submitted, campaign, MAY, uuid4())
        request = stored[-1].event()
        assert isinstance(request, PrefectureOpinionRequested)
        await selection.plan_opinion_deadline(conn, campaigns, request, stored[-1].event_id)
    return request


async def test_the_prefecture_is_reminded_then_its_opinion_recorded_overdue_by_the_schedule(
    settings, selection_db
):
    # given a dossier whose opinion was asked in May, due 15 days later
    store, edition = store_of(settings, "selection"), campaigns()
    request = await asked(selection_db, store, edition)
    assert request.due_at == MAY + 15 * DAY
    assert await pending(selection_db, request.dossier_id) == [
        "prefecture_opinion.reminder",
        "prefecture_opinion.reminder",
        "prefecture_opinion.overdue",
    ]
    clock = Clock(MAY + 8 * DAY)
    runner = ScheduleRunner(selection_db, selection.deadline_jobs(store, edition), clock=clock)
    # when the schedule runs at D−7: the reminder
    await runner.run_due()
    assert (await stream(selection_db, request.dossier_id))[-1] == "DeadlineApproaching"
    # when it runs again only at D (the service was down at D−1): no stale reminder, the overdue
    clock.now = MAY + 15 * DAY
    await runner.run_due()
    assert (await stream(selection_db, request.dossier_id))[2:] == [
        "DeadlineApproaching",
        "OpinionOverdue",
    ]
    assert await pending(selection_db, request.dossier_id) == []


async def test_an_opinion_given_cancels_its_deadline_and_a_job_run_after_it_records_nothing(
    settings, selection_db
):
    store, edition = store_of(settings, "selection"), campaigns()
    request = await asked(selection_db, store, edition)
    # a job already claimed when the opinion came records nothing
    await selection.give_opinion(
        selection_db,
        store,
        request.dossier_id,
        PREFECTURE,
        opinion=Opinion.reserved,
        motivation="Territoire trop large.",
        now=MAY + DAY,
    )
    runner = ScheduleRunner(
        selection_db, selection.deadline_jobs(store, edition), clock=Clock(MAY + 15 * DAY)
    )
    assert await runner.run_due() == 3
    assert (await stream(selection_db, request.dossier_id))[2:] == ["PrefectureOpinionGiven"]
    # and the opinion heard, the deadline of another dossier is dropped before it runs
    other = await asked(selection_db, store, edition)
    async with selection_db.acquire() as conn:
        await selection.cancel_deadlines(conn, other.dossier_id, selection.OPINION)
    assert await pending(selection_db, other.dossier_id) == []


async def test_a_convention_not_signed_by_the_campaigns_date_is_recorded_overdue(
    settings, selection_db
):
    # given a dossier selected in June, signed by the collectivité only
    store, edition = store_of(settings, "selection"), campaigns()
    [campaign] = edition.values()
    request = await asked(selection_db, store, edition)
    dossier_id = request.dossier_id
    await selection.give_opinion(
        selection_db,
        store,
        dossier_id,
        PREFECTURE,
        opinion=Opinion.favorable,
        motivation="Solide.",
        now=MAY + DAY,
    )
    await selection.record_assessment(
        selection_db,
        store,
        edition,
        dossier_id,
        INSTRUCTOR,
        scores=SCORES,
        proposed_eur=Decimal("100000.00"),
        comment="Plusieurs leviers.",
        now=JUNE,
    )
    [decided] = await selection.decide(
        selection_db,
        store,
        edition,
        dossier_id,
        PRESIDENT,
        outcome=Outcome.selected,
        granted_eur=Decimal("100000.00"),
        motivation="Retenu.",
        now=JUNE,
    )
    decision = decided.event()
    assert isinstance(decision, SelectionDecided)
    async with selection_db.acquire() as conn:
        await selection.plan_convention_deadline(conn, edition, decision, decided.event_id)
    applicant = Actor(Role.applicant, "maire@example.fr", siren=decision.siren)
    await selection.sign_convention(selection_db, store, edition, dossier_id, applicant, JUNE + DAY)
    # when the schedule runs a week before the campaign's date, then on it
    clock = Clock(campaign.convention_deadline - 7 * DAY)
    runner = ScheduleRunner(selection_db, selection.deadline_jobs(store, edition), clock=clock)
    await runner.run_due()
    clock.now = campaign.convention_deadline
    await runner.run_due()
    # then the two parties yet to sign were reminded, and the convention recorded overdue
    async with selection_db.acquire() as conn:
        events = [e.event() for e in await read_stream(conn, str(dossier_id))]
    reminded = [e.party.value for e in events if type(e).__name__ == "DeadlineApproaching"]
    assert reminded == ["prefecture", "mildeca"]
    [overdue] = [e for e in events if type(e).__name__ == "ConventionOverdue"]
    assert [p.value for p in overdue.unsigned] == ["prefecture", "mildeca"]  # type: ignore[attr-defined]


async def test_the_final_report_is_reminded_and_recorded_overdue_and_dropped_once_submitted(
    settings, payments_db
):
    store, edition = store_of(settings, "payments"), campaigns()
    [campaign] = edition.values()

    async def committed() -> FundsCommitted:
        signed = ConventionSigned(
            dossier_id=uuid4(),
            reference="AAP-2024-00042",
            campaign_id=campaign.id,
            siren="215905126",
            departement="59",
            granted_eur=Decimal("100000.00"),
            signed_at=JUNE,
            duration_months=24,
        )
        async with payments_db.acquire() as conn, conn.transaction():
            [stored] = await payments.commit_funds(
                conn, store, CommitFunds(signed, campaign, JUNE), caused_by=uuid4()
            )
            event = stored.event()
            assert isinstance(event, FundsCommitted)
            await payments.plan_final_report_deadline(conn, edition, event, stored.event_id)
        return event

    # given two commitments of June 2024 for 24 months: their reports due in September 2026
    late, reported = await committed(), await committed()
    due = late.final_report_due_at
    assert due == datetime(2026, 9, 20, 15, 0, tzinfo=PARIS)
    # and the report of the second submitted (its deadline dropped, as the consumer does)
    applicant = Actor(Role.applicant, "maire@example.fr", siren="215905126")
    await payments.submit_final_report(
        payments_db,
        store,
        reported.dossier_id,
        applicant,
        JUNE + 300 * DAY,
        justified_spending_eur=Decimal("90000.00"),
        summary="Bilan de l'action.",
    )
    async with payments_db.acquire() as conn:
        await payments.cancel_final_report_deadline(conn, reported.dossier_id)
    # when the schedule runs at D−1, then at D
    clock = Clock(due - DAY)
    runner = ScheduleRunner(payments_db, payments.deadline_jobs(store, edition), clock=clock)
    await runner.run_due()
    clock.now = due
    await runner.run_due()
    # then the first was reminded once (the D−7 job yielding to D−1) and recorded overdue
    assert (await stream(payments_db, late.dossier_id))[1:] == [
        "DeadlineApproaching",
        "FinalReportOverdue",
    ]
    assert await stream(payments_db, reported.dossier_id) == [
        "FundsCommitted",
        "FinalReportSubmitted",
    ]
