"""Applications' commands and reactions: load, decide, append — each in one transaction."""

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from services.applications import domain
from shared.contracts.applications import Dossier
from shared.contracts.selection import SelectionDecided
from shared.kernel.aggregate import Aggregate, Loaded, in_transaction
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign

_NEXT_NUMBER = """
INSERT INTO dossier_counters (campaign_id, last_number) VALUES ($1, 1)
ON CONFLICT (campaign_id) DO UPDATE SET last_number = dossier_counters.last_number + 1
RETURNING last_number
"""

# The first decision is the one that closes the door to a withdrawal.
_DECIDED = """
INSERT INTO decisions (dossier_id, outcome, decided_at) VALUES ($1, $2, $3)
ON CONFLICT (dossier_id) DO NOTHING
"""


def dossiers(store: EventStore) -> Aggregate[domain.DossierState]:
    return Aggregate(store, domain.DossierState, domain.evolve)


async def submit_dossier(
    pool: asyncpg.Pool,
    store: EventStore,
    campaign: Campaign,
    dossier: Dossier,
    actor: Actor,
    now: datetime,
) -> list[StoredEvent]:
    # Refused at the door: no number taken, nothing stored.
    domain.ensure_may_file(actor, campaign, dossier, now)
    dossier_id = uuid4()
    aggregate = dossiers(store)
    async with pool.acquire() as conn, conn.transaction():
        number = await conn.fetchval(_NEXT_NUMBER, campaign.id)
        # A new dossier id: its stream is empty, nothing to load.
        fresh = Loaded(str(dossier_id), domain.DossierState(), [])
        events = domain.submit(
            fresh.state,
            actor=actor,
            dossier_id=dossier_id,
            reference=domain.reference_for(campaign, number),
            campaign=campaign,
            dossier=dossier,
            now=now,
        )
        return await aggregate.record(conn, fresh, events, now=now, actor=actor.label())


async def withdraw_dossier(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    reason: str,
    now: datetime,
) -> list[StoredEvent]:
    aggregate = dossiers(store)

    async def work(conn: asyncpg.Connection) -> list[StoredEvent]:
        loaded = await aggregate.load(conn, dossier_id)
        events = domain.withdraw(
            loaded.state,
            dossier_id=dossier_id,
            actor=actor,
            reason=reason,
            now=now,
            decided=await decision_of(conn, dossier_id),
        )
        return await aggregate.record(conn, loaded, events, now=now, actor=actor.label())

    return await in_transaction(pool, work)


async def decision_of(conn: asyncpg.Connection, dossier_id: UUID) -> domain.Decision | None:
    row = await conn.fetchrow(
        "SELECT outcome, decided_at FROM decisions WHERE dossier_id = $1", dossier_id
    )
    return domain.Decision(row["outcome"], row["decided_at"]) if row else None


async def record_decision(conn: asyncpg.Connection, decided: SelectionDecided) -> None:
    await conn.execute(_DECIDED, decided.dossier_id, decided.outcome.value, decided.decided_at)
