"""Payments' commands and reactions, each run by the kernel on the dossier's stream."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from services.payments.commands import (
    ActorCommand,
    AddSpendingProof,
    CommitFunds,
    GiveOpinion,
    PayInstalment,
    RecordReportOverdue,
    ReleaseBalance,
    RemindOfFinalReport,
    SubmitActivityReport,
    SubmitFinalReport,
)
from services.payments.domain import PAYMENTS
from shared.contracts.deadlines import DeadlineKind
from shared.contracts.payments import DepartmentalOpinion, FundsCommitted
from shared.kernel import schedule
from shared.kernel.aggregate import execute, run
from shared.kernel.blobs import Blobs
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.kernel.uploads import Received
from shared.language.actors import Actor
from shared.language.attachments import AttachmentKind
from shared.language.campaigns import Campaign, find


async def commit_funds(
    conn: asyncpg.Connection, store: EventStore, command: CommitFunds, *, caused_by: UUID
) -> list[StoredEvent]:
    """In the consumer's tracking transaction: the signature's event is processed once."""
    return await run(
        conn,
        store,
        PAYMENTS,
        command.signed.dossier_id,
        command,
        now=command.now,
        actor="system:commitments",
        caused_by=caused_by,
    )


async def pay_instalment(
    pool: asyncpg.Pool, store: EventStore, dossier_id: UUID, actor: Actor, now: datetime
) -> list[StoredEvent]:
    return await _execute(pool, store, PayInstalment(actor, dossier_id, now))


async def submit_activity_report(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
    *,
    summary: str,
    spent_to_date_eur: Decimal,
    attachments: tuple[UUID, ...] = (),
    instalment_asked: bool = True,
) -> list[StoredEvent]:
    command = SubmitActivityReport(
        actor, dossier_id, summary, spent_to_date_eur, attachments, instalment_asked, now
    )
    return await _execute(pool, store, command)


async def submit_final_report(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
    *,
    justified_spending_eur: Decimal,
    summary: str,
) -> list[StoredEvent]:
    command = SubmitFinalReport(actor, dossier_id, justified_spending_eur, summary, now)
    return await _execute(pool, store, command)


async def give_opinion(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
    *,
    opinion: DepartmentalOpinion,
    motivation: str,
) -> list[StoredEvent]:
    return await _execute(pool, store, GiveOpinion(actor, dossier_id, opinion, motivation, now))


async def release_balance(
    pool: asyncpg.Pool, store: EventStore, dossier_id: UUID, actor: Actor, now: datetime
) -> list[StoredEvent]:
    return await _execute(pool, store, ReleaseBalance(actor, dossier_id, now))


async def _execute(pool: asyncpg.Pool, store: EventStore, c: ActorCommand) -> list[StoredEvent]:
    return await execute(pool, store, PAYMENTS, c.dossier_id, c, now=c.now, actor=c.actor.label())


# --- the final report's deadline: planned at the commitment, decided when its instants come ---

FINAL_REPORT = DeadlineKind.final_report.value


async def plan_final_report_deadline(
    conn: asyncpg.Connection,
    campaigns: Mapping[str, Campaign],
    committed: FundsCommitted,
    caused_by: UUID,
) -> None:
    """A commitment recorded before it said its report's deadline plans nothing."""
    if committed.final_report_due_at is None:
        return
    campaign = find(campaigns, committed.campaign_id)
    await schedule.plan_deadline(
        conn,
        key=str(caused_by),
        stream_id=str(committed.dossier_id),
        deadline=FINAL_REPORT,
        due_at=committed.final_report_due_at,
        reminder_days=campaign.deadlines.reminder_days,
    )


async def cancel_final_report_deadline(conn: asyncpg.Connection, dossier_id: UUID) -> None:
    await schedule.cancel_deadline(conn, stream_id=str(dossier_id), deadline=FINAL_REPORT)


async def run_deadline_job(
    conn: asyncpg.Connection,
    store: EventStore,
    campaigns: Mapping[str, Campaign],
    job: schedule.Job,
    now: datetime,
) -> list[StoredEvent]:
    """In the schedule's transaction: the job is marked done with the events it records."""
    due = schedule.DeadlineJob.of(job)
    command: RemindOfFinalReport | RecordReportOverdue = (
        RemindOfFinalReport(due.due_at, due.window_days, campaigns, now)
        if due.is_reminder
        else RecordReportOverdue(due.due_at, now)
    )
    return await run(
        conn,
        store,
        PAYMENTS,
        job.stream_id,
        command,
        now=now,
        actor="system:deadlines",
        caused_by=UUID(due.caused_by) if due.caused_by else None,
    )


def deadline_jobs(
    store: EventStore, campaigns: Mapping[str, Campaign]
) -> dict[str, schedule.Handler]:
    """The schedule's handlers of payments' deadlines, by job kind."""

    async def on_due(conn: asyncpg.Connection, job: schedule.Job, now: datetime) -> None:
        await run_deadline_job(conn, store, campaigns, job, now)

    return dict.fromkeys(schedule.deadline_kinds(FINAL_REPORT), on_due)


async def add_spending_proof(
    pool: asyncpg.Pool,
    store: EventStore,
    blobs: Blobs,
    dossier_id: UUID,
    actor: Actor,
    received: Received,
    now: datetime,
) -> list[StoredEvent]:
    """The bytes kept in the event's transaction: a refused proof stores nothing."""
    attachment = received.attachment(AttachmentKind.proof_of_spending)
    return await execute(
        pool,
        store,
        PAYMENTS,
        dossier_id,
        AddSpendingProof(actor, dossier_id, attachment, now),
        now=now,
        actor=actor.label(),
        then=received.kept(blobs),
    )
