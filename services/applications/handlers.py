"""Applications' commands and reactions: each command built, then run by the kernel."""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.applications import decisions, numbering
from services.applications.commands import (
    AddAttachment,
    AddNote,
    Amend,
    CloseIncomplete,
    Command,
    CommentDraft,
    Decision,
    FileDraft,
    HearDecision,
    MarkCorrectionOverdue,
    PostMessage,
    RemindOfCorrection,
    RequestCorrection,
    SaveDraft,
    ShareDraft,
    Submit,
    Withdraw,
)
from services.applications.domain import DOSSIER, reference_for
from services.applications.errors import UnknownDraft
from shared.contracts.applications import CorrectionRequested, Dossier
from shared.contracts.deadlines import DeadlineKind
from shared.contracts.selection import SelectionDecided
from shared.kernel import schedule
from shared.kernel.aggregate import Prepared, Then, execute, run
from shared.kernel.blobs import Blobs
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.kernel.uploads import Received
from shared.language.actors import Actor
from shared.language.attachments import AttachmentKind, Audience
from shared.language.campaigns import Campaign, find


async def submit_dossier(
    pool: asyncpg.Pool,
    store: EventStore,
    campaign: Campaign,
    dossier: Dossier,
    actor: Actor,
    now: datetime,
) -> list[StoredEvent]:
    """A new dossier, numbered in its filing's transaction: a refused filing takes no number."""
    dossier_id = uuid4()

    async def numbered(conn: asyncpg.Connection) -> Submit:
        number = await numbering.next_number(conn, campaign.id)
        return Submit(actor, dossier_id, reference_for(campaign, number), campaign, dossier, now)

    return await execute(
        pool,
        store,
        DOSSIER,
        dossier_id,
        Prepared(numbered),
        now=now,
        actor=actor.label(),
        new_stream=True,
    )


async def _run(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    command: Command | Prepared[Command],
    actor: Actor,
    now: datetime,
    then: Then | None = None,
) -> list[StoredEvent]:
    return await execute(
        pool, store, DOSSIER, dossier_id, command, now=now, actor=actor.label(), then=then
    )


async def withdraw_dossier(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    reason: str,
    now: datetime,
) -> list[StoredEvent]:
    command = _knowing_the_decision(
        dossier_id, lambda decided: Withdraw(actor, dossier_id, reason, now, decided=decided)
    )
    return await _run(pool, store, dossier_id, command, actor, now)


async def hear_decision(
    conn: asyncpg.Connection,
    store: EventStore,
    decided: SelectionDecided,
    now: datetime,
    caused_by: UUID,
) -> list[StoredEvent]:
    """In the consumer's transaction, with its tracking row: the decision recorded (the door to
    withdrawals and corrections closes), and the amendments that crossed it set aside. A command
    that reads the decision waits for this transaction, and this one for it (decisions.py)."""
    await decisions.record(conn, decided)
    if decided.decided_on is None:  # an older decision: the version decided on is not said
        return []
    command = HearDecision(
        decided.dossier_id, decided.decided_on.amendment, decided.decided_at, now
    )
    return await run(
        conn,
        store,
        DOSSIER,
        decided.dossier_id,
        command,
        now=now,
        actor="system:decisions",
        caused_by=caused_by,
    )


# --- the exchange -------------------------------------------------------------------------------


async def attach(
    pool: asyncpg.Pool,
    store: EventStore,
    blobs: Blobs,
    dossier_id: UUID,
    actor: Actor,
    kind: AttachmentKind,
    audience: Audience,
    received: Received,
    now: datetime,
) -> list[StoredEvent]:
    """The bytes are kept in the event's transaction: a refused attachment stores nothing."""
    command = AddAttachment(actor, dossier_id, received.attachment(kind), audience, now)
    return await _run(pool, store, dossier_id, command, actor, now, then=received.kept(blobs))


async def post_message(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    text: str,
    attachments: list[UUID],
    now: datetime,
) -> list[StoredEvent]:
    command = PostMessage(actor, dossier_id, uuid4(), text, attachments, now)
    return await _run(pool, store, dossier_id, command, actor, now)


async def add_note(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    text: str,
    attachments: list[UUID],
    now: datetime,
) -> list[StoredEvent]:
    command = AddNote(actor, dossier_id, uuid4(), text, attachments, now)
    return await _run(pool, store, dossier_id, command, actor, now)


# --- corrections --------------------------------------------------------------------------------


def _knowing_the_decision(
    dossier_id: UUID, make: Callable[[Decision | None], Command]
) -> Prepared[Command]:
    """A command built with what applications heard of the President's decision."""

    async def build(conn: asyncpg.Connection) -> Command:
        return make(await decisions.of(conn, dossier_id))

    return Prepared(build)


async def request_correction(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    fields: list[str],
    reason: str,
    due_at: datetime | None,
    campaigns: Mapping[str, Campaign],
    now: datetime,
) -> list[StoredEvent]:
    request_id = uuid4()
    command = _knowing_the_decision(
        dossier_id,
        lambda decided: RequestCorrection(
            actor, dossier_id, request_id, fields, reason, due_at, now, decided, campaigns
        ),
    )
    return await _run(pool, store, dossier_id, command, actor, now)


async def amend(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    changes: dict[str, Any],
    now: datetime,
) -> list[StoredEvent]:
    command = _knowing_the_decision(
        dossier_id, lambda decided: Amend(actor, dossier_id, changes, now, decided)
    )
    return await _run(pool, store, dossier_id, command, actor, now)


async def close_incomplete(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    motivation: str,
    now: datetime,
) -> list[StoredEvent]:
    command = _knowing_the_decision(
        dossier_id, lambda decided: CloseIncomplete(actor, dossier_id, motivation, now, decided)
    )
    return await _run(pool, store, dossier_id, command, actor, now)


# --- drafts -------------------------------------------------------------------------------------


async def save_draft(
    pool: asyncpg.Pool,
    store: EventStore,
    draft_id: UUID,
    actor: Actor,
    campaign: Campaign,
    content: dict[str, Any],
    now: datetime,
) -> list[StoredEvent]:
    command = SaveDraft(actor, draft_id, campaign, content, now)
    return await _run(pool, store, draft_id, command, actor, now)


async def save_draft_again(
    pool: asyncpg.Pool,
    store: EventStore,
    draft_id: UUID,
    actor: Actor,
    campaigns: Mapping[str, Campaign],
    content: dict[str, Any],
    now: datetime,
) -> list[StoredEvent]:
    """A draft saved again, in the campaign its stream says (not the read model's, which may
    not have heard of it yet)."""

    async def in_its_campaign(conn: asyncpg.Connection) -> Command:
        campaign = await _campaign_of_draft(conn, store, draft_id, campaigns)
        return SaveDraft(actor, draft_id, campaign, content, now)

    return await _run(pool, store, draft_id, Prepared(in_its_campaign), actor, now)


async def _campaign_of_draft(
    conn: asyncpg.Connection, store: EventStore, draft_id: UUID, campaigns: Mapping[str, Campaign]
) -> Campaign:
    draft = DOSSIER.fold(s.event() for s in await store.load(conn, str(draft_id))).draft
    if draft is None:
        raise UnknownDraft(draft_id)
    return find(campaigns, draft.campaign_id)


async def share_draft(
    pool: asyncpg.Pool, store: EventStore, draft_id: UUID, actor: Actor, now: datetime
) -> list[StoredEvent]:
    return await _run(pool, store, draft_id, ShareDraft(actor, draft_id, now), actor, now)


async def comment_draft(
    pool: asyncpg.Pool, store: EventStore, draft_id: UUID, actor: Actor, text: str, now: datetime
) -> list[StoredEvent]:
    command = CommentDraft(actor, draft_id, uuid4(), text, now)
    return await _run(pool, store, draft_id, command, actor, now)


async def file_draft(
    pool: asyncpg.Pool,
    store: EventStore,
    draft_id: UUID,
    actor: Actor,
    campaigns: Mapping[str, Campaign],
    now: datetime,
) -> list[StoredEvent]:
    """The draft filed in its campaign, numbered in the filing's transaction as a filing at once
    is (a refused filing takes no number)."""

    async def numbered(conn: asyncpg.Connection) -> Command:
        campaign = await _campaign_of_draft(conn, store, draft_id, campaigns)
        number = await numbering.next_number(conn, campaign.id)
        return FileDraft(actor, draft_id, reference_for(campaign, number), campaign, now)

    return await _run(pool, store, draft_id, Prepared(numbered), actor, now)


# --- the correction's deadline: its reminders and its overdue (shared/kernel/schedule.py) ------

CORRECTION = DeadlineKind.correction.value


async def plan_correction_deadline(
    conn: asyncpg.Connection,
    campaigns: Mapping[str, Campaign],
    asked: CorrectionRequested,
    key: UUID,
) -> None:
    campaign = find(campaigns, asked.campaign_id)
    await schedule.plan_deadline(
        conn,
        key=str(key),
        stream_id=str(asked.dossier_id),
        deadline=CORRECTION,
        due_at=asked.due_at,
        reminder_days=campaign.deadlines.reminder_days,
    )


async def cancel_correction_deadline(conn: asyncpg.Connection, dossier_id: UUID) -> None:
    await schedule.cancel_deadline(conn, stream_id=str(dossier_id), deadline=CORRECTION)


def deadline_jobs(
    store: EventStore, campaigns: Mapping[str, Campaign]
) -> dict[str, schedule.Handler]:
    """The schedule's handlers of the correction's deadline: decided on the dossier's stream,
    in the schedule's transaction (the job is marked done with the events it records)."""

    async def on_due(conn: asyncpg.Connection, job: schedule.Job, now: datetime) -> None:
        due = schedule.DeadlineJob.of(job)
        dossier_id = UUID(job.stream_id)
        command: Command
        if due.is_reminder:
            history = await store.load(conn, job.stream_id)
            campaign_id = DOSSIER.fold(s.event() for s in history).campaign_id
            days = find(campaigns, campaign_id).deadlines.reminder_days
            command = RemindOfCorrection(dossier_id, due.due_at, due.window_days, days, now)
        else:
            command = MarkCorrectionOverdue(dossier_id, due.due_at, now)
        await run(
            conn,
            store,
            DOSSIER,
            dossier_id,
            command,
            now=now,
            actor="system:deadlines",
            caused_by=UUID(due.caused_by) if due.caused_by else None,
        )

    return dict.fromkeys(schedule.deadline_kinds(CORRECTION), on_due)
