"""Selection's commands and reactions: load the dossier, decide, append — one transaction."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from services.selection import convention, decision, domain, instruction
from services.selection.commands import Decide, GiveOpinion, RecordAssessment
from services.selection.domain import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.contracts.selection import GrantReleased, SelectionDecided
from shared.kernel.aggregate import Aggregate, Loaded, in_transaction
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign, find

_WITHDRAWN = "SELECT EXISTS (SELECT 1 FROM withdrawals WHERE dossier_id = $1)"

_WITHDRAW = """
INSERT INTO withdrawals (dossier_id, withdrawn_at) VALUES ($1, $2)
ON CONFLICT (dossier_id) DO NOTHING
"""

# Every selection event carries its campaign; the first one is enough to find the envelope.
_CAMPAIGN_OF = "SELECT data->>'campaign_id' FROM events WHERE stream_id = $1 AND version = 1"

# The envelope follows the campaign's data; the upsert also locks the row until the commit.
_ENSURE_ENVELOPE = """
INSERT INTO campaign_envelopes (campaign_id, envelope_eur, granted_eur) VALUES ($1, $2, 0)
ON CONFLICT (campaign_id) DO UPDATE SET envelope_eur = excluded.envelope_eur
"""

_LOCK_ENVELOPE = "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = $1 FOR UPDATE"

_GRANT = "UPDATE campaign_envelopes SET granted_eur = granted_eur + $2 WHERE campaign_id = $1"

_RELEASE = "UPDATE campaign_envelopes SET granted_eur = granted_eur - $2 WHERE campaign_id = $1"

Step = Callable[[SelectionState], Sequence[DomainEvent]]  # a command once its inputs are bound


def _aggregate(store: EventStore) -> Aggregate[SelectionState]:
    return Aggregate(store, SelectionState, domain.evolve)


async def load(
    conn: asyncpg.Connection, store: EventStore, dossier_id: UUID
) -> Loaded[SelectionState]:
    """The dossier's selection stream, and whether its applicant withdrew it."""
    loaded = await _aggregate(store).load(conn, dossier_id)
    withdrawn = await conn.fetchval(_WITHDRAWN, dossier_id)
    return replace(loaded, state=replace(loaded.state, withdrawn=withdrawn))


async def _command(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
    decide: Step,
) -> list[StoredEvent]:
    async def work(conn: asyncpg.Connection) -> list[StoredEvent]:
        loaded = await load(conn, store, dossier_id)
        return await _aggregate(store).record(
            conn, loaded, decide(loaded.state), now=now, actor=actor.label()
        )

    return await in_transaction(pool, work)


async def give_opinion(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    command: GiveOpinion,
    now: datetime,
) -> list[StoredEvent]:
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: instruction.give_opinion(state, actor, command, now),
    )


async def record_assessment(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: dict[str, Campaign],
    dossier_id: UUID,
    actor: Actor,
    command: RecordAssessment,
    now: datetime,
) -> list[StoredEvent]:
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: instruction.record_assessment(state, actor, command, campaigns, now),
    )


async def sign_convention(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: dict[str, Campaign],
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
) -> list[StoredEvent]:
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: convention.sign(state, actor, campaigns, now),
    )


async def decide(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: dict[str, Campaign],
    dossier_id: UUID,
    actor: Actor,
    command: Decide,
    now: datetime,
) -> list[StoredEvent]:
    """Lock the campaign's envelope, then decide on the dossier and add its grant to the envelope."""

    async def work(conn: asyncpg.Connection) -> list[StoredEvent]:
        granted_so_far = await _lock_envelope(conn, campaigns, dossier_id)  # before the stream
        loaded = await load(conn, store, dossier_id)
        events = decision.decide(loaded.state, actor, command, campaigns, granted_so_far, now)
        stored = await _aggregate(store).record(conn, loaded, events, now=now, actor=actor.label())
        for event in events:
            if isinstance(event, SelectionDecided) and event.granted_eur:
                await conn.execute(_GRANT, event.campaign_id, event.granted_eur)
        return stored

    return await in_transaction(pool, work)


async def _lock_envelope(
    conn: asyncpg.Connection, campaigns: dict[str, Campaign], dossier_id: UUID
) -> Decimal:
    """What the dossier's campaign granted so far, its row locked until the commit."""
    campaign_id = await conn.fetchval(_CAMPAIGN_OF, str(dossier_id))
    if campaign_id is None:
        return Decimal("0.00")  # an unknown dossier: the decision refuses it, nothing to lock
    campaign = find(campaigns, campaign_id)
    await conn.execute(_ENSURE_ENVELOPE, campaign.id, campaign.envelope_eur)
    granted: Decimal = await conn.fetchval(_LOCK_ENVELOPE, campaign.id)
    return granted


async def check_eligibility(
    conn: asyncpg.Connection,
    store: EventStore,
    submitted: ApplicationSubmitted,
    campaign: Campaign,
    now: datetime,
    caused_by: UUID,
) -> None:
    loaded = await load(conn, store, submitted.dossier_id)
    events = domain.check_eligibility(loaded.state, submitted, campaign, now)
    await _aggregate(store).record(
        conn, loaded, events, now=now, actor="system:eligibility", caused_by=caused_by
    )


async def record_withdrawal(conn: asyncpg.Connection, withdrawn: ApplicationWithdrawn) -> None:
    await conn.execute(_WITHDRAW, withdrawn.dossier_id, withdrawn.withdrawn_at)


async def react_to_withdrawal(
    conn: asyncpg.Connection,
    store: EventStore,
    campaigns: dict[str, Campaign],
    withdrawn: ApplicationWithdrawn,
    now: datetime,
    caused_by: UUID,
) -> None:
    """Record the withdrawal and give back a grant decided meanwhile. The envelope is locked
    first, as a decision locks it: a decision is either committed before (and released here)
    or made after (and refused, the dossier being withdrawn)."""
    await _lock_envelope(conn, campaigns, withdrawn.dossier_id)
    await record_withdrawal(conn, withdrawn)
    loaded = await load(conn, store, withdrawn.dossier_id)
    events = decision.release_on_withdrawal(loaded.state, now)
    await _aggregate(store).record(
        conn, loaded, events, now=now, actor="system:withdrawal", caused_by=caused_by
    )
    for event in events:
        if isinstance(event, GrantReleased):
            await conn.execute(_RELEASE, event.campaign_id, event.released_eur)
