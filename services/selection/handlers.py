"""Selection's commands and reactions: each command built with what selection heard outside the
dossier's stream (a withdrawal, the envelope), then run by the kernel."""

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from services.selection import deadlines, envelopes, withdrawals
from services.selection.commands import (
    CheckEligibility,
    Command,
    Decide,
    GiveOpinion,
    RecheckEligibility,
    RecordAssessment,
    RecordOverdue,
    ReleaseOnWithdrawal,
    RemindOfDeadline,
    Sign,
)
from services.selection.domain import SELECTION
from services.selection.dotation_decider import DOTATION, ComputeDotation
from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DossierClosedIncomplete,
)
from shared.contracts.deadlines import DeadlineKind
from shared.contracts.dotations import DotationComputed, dotation_stream
from shared.contracts.selection import (
    Opinion,
    Outcome,
    PrefectureOpinionRequested,
    Scores,
    SelectionDecided,
)
from shared.kernel import schedule
from shared.kernel.aggregate import Prepared, execute, run
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign, find

Campaigns = Mapping[str, Campaign]


async def on_dossier(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    build: Callable[[bool], Command],
    now: datetime,
) -> list[StoredEvent]:
    """A step on the dossier from outside (HTTP), built with whether its applicant withdrew it."""

    async def command(conn: asyncpg.Connection) -> Command:
        return build(await withdrawals.withdrawn(conn, dossier_id))

    return await execute(
        pool, store, SELECTION, dossier_id, Prepared(command), now=now, actor=actor.label()
    )


async def give_opinion(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    *,
    opinion: Opinion,
    motivation: str,
    now: datetime,
) -> list[StoredEvent]:
    return await on_dossier(
        pool,
        store,
        dossier_id,
        actor,
        lambda withdrawn: GiveOpinion(actor, opinion, motivation, withdrawn, now),
        now,
    )


async def record_assessment(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: Campaigns,
    dossier_id: UUID,
    actor: Actor,
    *,
    scores: Scores,
    proposed_eur: Decimal,
    comment: str,
    now: datetime,
) -> list[StoredEvent]:
    return await on_dossier(
        pool,
        store,
        dossier_id,
        actor,
        lambda w: RecordAssessment(actor, scores, proposed_eur, comment, campaigns, w, now),
        now,
    )


async def decide(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: Campaigns,
    dossier_id: UUID,
    actor: Actor,
    *,
    outcome: Outcome,
    granted_eur: Decimal | None,
    motivation: str,
    now: datetime,
) -> list[StoredEvent]:
    """The campaign's envelope locked before the dossier's stream is read; the grant added to it
    in the same transaction."""

    async def command(conn: asyncpg.Connection) -> Decide:
        granted_so_far = await envelopes.lock(conn, campaigns, dossier_id)
        withdrawn = await withdrawals.withdrawn(conn, dossier_id)
        return Decide(
            actor, outcome, granted_eur, motivation, campaigns, granted_so_far, withdrawn, now
        )

    return await execute(
        pool,
        store,
        SELECTION,
        dossier_id,
        Prepared(command),
        now=now,
        actor=actor.label(),
        then=envelopes.follow,
    )


async def sign_convention(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: Campaigns,
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
) -> list[StoredEvent]:
    return await on_dossier(
        pool, store, dossier_id, actor, lambda w: Sign(actor, campaigns, w, now), now
    )


async def check_eligibility(
    conn: asyncpg.Connection,
    store: EventStore,
    submitted: ApplicationSubmitted,
    campaign: Campaign,
    now: datetime,
    caused_by: UUID,
) -> list[StoredEvent]:
    """In the consumer's transaction, with its tracking row."""
    withdrawn = await withdrawals.withdrawn(conn, submitted.dossier_id)
    command = CheckEligibility(submitted, campaign, withdrawn, now)
    return await run(
        conn,
        store,
        SELECTION,
        submitted.dossier_id,
        command,
        now=now,
        actor="system:eligibility",
        caused_by=caused_by,
    )


async def recheck_eligibility(
    conn: asyncpg.Connection,
    store: EventStore,
    amended: ApplicationAmended,
    campaign: Campaign,
    now: datetime,
    caused_by: UUID,
) -> list[StoredEvent]:
    """In the consumer's transaction, with its tracking row."""
    withdrawn = await withdrawals.withdrawn(conn, amended.dossier_id)
    command = RecheckEligibility(amended, campaign, withdrawn, now)
    return await run(
        conn,
        store,
        SELECTION,
        amended.dossier_id,
        command,
        now=now,
        actor="system:eligibility",
        caused_by=caused_by,
    )


async def react_to_withdrawal(
    conn: asyncpg.Connection,
    store: EventStore,
    campaigns: Campaigns,
    withdrawn: ApplicationWithdrawn | DossierClosedIncomplete,
    now: datetime,
    caused_by: UUID,
) -> list[StoredEvent]:
    """Record the withdrawal and give back a grant decided meanwhile. The envelope is locked
    first, as a decision locks it: a decision is either committed before (and released here)
    or made after (and refused, the dossier being withdrawn)."""
    await envelopes.lock(conn, campaigns, withdrawn.dossier_id)
    await withdrawals.record(conn, withdrawn)
    stored = await run(
        conn,
        store,
        SELECTION,
        withdrawn.dossier_id,
        ReleaseOnWithdrawal(withdrawn, now),
        now=now,
        actor="system:withdrawal",
        caused_by=caused_by,
    )
    await envelopes.follow(conn, [s.event() for s in stored])
    return stored


# --- deadlines: planned as the events are heard, decided when their instant comes -------------

OPINION, CONVENTION = DeadlineKind.prefecture_opinion, DeadlineKind.convention


async def plan_opinion_deadline(
    conn: asyncpg.Connection,
    campaigns: Campaigns,
    requested: PrefectureOpinionRequested,
    caused_by: UUID,
) -> None:
    campaign = find(campaigns, requested.campaign_id)
    await schedule.plan_deadline(
        conn,
        key=str(caused_by),
        stream_id=str(requested.dossier_id),
        deadline=OPINION.value,
        due_at=deadlines.opinion_due_at(requested, campaign),
        reminder_days=campaign.deadlines.reminder_days,
    )


async def plan_convention_deadline(
    conn: asyncpg.Connection, campaigns: Campaigns, decided: SelectionDecided, caused_by: UUID
) -> None:
    """A selected dossier's convention is signed before the campaign's date."""
    if decided.outcome is not Outcome.selected:
        return
    campaign = find(campaigns, decided.campaign_id)
    await schedule.plan_deadline(
        conn,
        key=str(caused_by),
        stream_id=str(decided.dossier_id),
        deadline=CONVENTION.value,
        due_at=campaign.convention_deadline,
        reminder_days=campaign.deadlines.reminder_days,
    )


async def cancel_deadlines(
    conn: asyncpg.Connection, dossier_id: UUID, deadline: DeadlineKind | None = None
) -> None:
    """The party acted (or the dossier left the call): its jobs not yet run are dropped."""
    if deadline is None:
        await schedule.cancel(conn, stream_id=str(dossier_id))
    else:
        await schedule.cancel_deadline(conn, stream_id=str(dossier_id), deadline=deadline.value)


async def run_deadline_job(
    conn: asyncpg.Connection,
    store: EventStore,
    campaigns: Campaigns,
    job: schedule.Job,
    now: datetime,
) -> list[StoredEvent]:
    """A reminder's or a deadline's instant came: decided on the dossier's stream, in the
    schedule's transaction (the job is marked done with the events it records)."""
    due = schedule.DeadlineJob.of(job)
    dossier_id, deadline = UUID(job.stream_id), DeadlineKind(due.deadline)
    withdrawn = await withdrawals.withdrawn(conn, dossier_id)
    command: RemindOfDeadline | RecordOverdue = (
        RemindOfDeadline(deadline, due.due_at, due.window_days, campaigns, withdrawn, now)
        if due.is_reminder
        else RecordOverdue(deadline, due.due_at, campaigns, withdrawn, now)
    )
    return await run(
        conn,
        store,
        SELECTION,
        dossier_id,
        command,
        now=now,
        actor="system:deadlines",
        caused_by=UUID(due.caused_by) if due.caused_by else None,
    )


def deadline_jobs(store: EventStore, campaigns: Campaigns) -> dict[str, schedule.Handler]:
    """The schedule's handlers of selection's deadlines, by job kind."""

    async def on_due(conn: asyncpg.Connection, job: schedule.Job, now: datetime) -> None:
        await run_deadline_job(conn, store, campaigns, job, now)

    kinds = [*schedule.deadline_kinds(OPINION.value), *schedule.deadline_kinds(CONVENTION.value)]
    return dict.fromkeys(kinds, on_due)


# --- regional dotations: a stream of their own, `dotation:<id>` ----------------------------------


async def compute_dotation(
    pool: asyncpg.Pool, store: EventStore, command: ComputeDotation
) -> list[StoredEvent]:
    return await execute(
        pool,
        store,
        DOTATION,
        dotation_stream(command.dotation_id),
        command,
        now=command.now,
        actor=command.actor.label(),
    )


async def computed_dotation(
    pool: asyncpg.Pool, store: EventStore, dotation_id: str
) -> DotationComputed | None:
    """The dotation as its stream says it (no read model: one event, read where it was written,
    so that it reads as soon as it is computed)."""
    async with pool.acquire() as conn:
        history = await store.load(conn, dotation_stream(dotation_id))
    return DOTATION.fold(stored.event() for stored in history)
