"""Applications' commands and reactions: each command built, then run by the kernel."""

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from services.applications import decisions, numbering
from services.applications.commands import Submit, Withdraw
from services.applications.domain import DOSSIER, reference_for
from shared.contracts.applications import Dossier
from shared.contracts.selection import SelectionDecided
from shared.kernel.aggregate import Prepared, execute
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign


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


async def withdraw_dossier(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    reason: str,
    now: datetime,
) -> list[StoredEvent]:
    async def with_decision(conn: asyncpg.Connection) -> Withdraw:
        return Withdraw(
            actor, dossier_id, reason, now, decided=await decisions.of(conn, dossier_id)
        )

    return await execute(
        pool, store, DOSSIER, dossier_id, Prepared(with_decision), now=now, actor=actor.label()
    )


async def record_decision(conn: asyncpg.Connection, decided: SelectionDecided) -> None:
    await decisions.record(conn, decided)
