"""Selection's commands and reactions: each command built with what selection heard outside the
dossier's stream (a withdrawal, the envelope), then run by the kernel."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from services.selection import envelopes, withdrawals
from services.selection.commands import (
    CheckEligibility,
    Decide,
    GiveOpinion,
    RecordAssessment,
    ReleaseOnWithdrawal,
    Sign,
)
from services.selection.domain import SELECTION
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.contracts.selection import Opinion, Outcome, Scores
from shared.kernel.aggregate import Prepared, execute, run
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign

Campaigns = Mapping[str, Campaign]


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
    async def command(conn: asyncpg.Connection) -> GiveOpinion:
        withdrawn = await withdrawals.withdrawn(conn, dossier_id)
        return GiveOpinion(actor, opinion, motivation, withdrawn, now)

    return await execute(
        pool, store, SELECTION, dossier_id, Prepared(command), now=now, actor=actor.label()
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
    async def command(conn: asyncpg.Connection) -> RecordAssessment:
        withdrawn = await withdrawals.withdrawn(conn, dossier_id)
        return RecordAssessment(actor, scores, proposed_eur, comment, campaigns, withdrawn, now)

    return await execute(
        pool, store, SELECTION, dossier_id, Prepared(command), now=now, actor=actor.label()
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
    async def command(conn: asyncpg.Connection) -> Sign:
        return Sign(actor, campaigns, await withdrawals.withdrawn(conn, dossier_id), now)

    return await execute(
        pool, store, SELECTION, dossier_id, Prepared(command), now=now, actor=actor.label()
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


async def react_to_withdrawal(
    conn: asyncpg.Connection,
    store: EventStore,
    campaigns: Campaigns,
    withdrawn: ApplicationWithdrawn,
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
