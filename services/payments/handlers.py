"""Payments' commands and reactions: load the dossier's stream, decide, append — one transaction."""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from services.payments import domain
from shared.contracts import DomainEvent
from shared.contracts.payments import DepartmentalOpinion
from shared.contracts.selection import ConventionSigned
from shared.kernel.aggregate import Aggregate, in_transaction
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign

Decision = Callable[[domain.PaymentsState], list[DomainEvent]]


def _payments(store: EventStore) -> Aggregate[domain.PaymentsState]:
    return Aggregate(store, domain.PaymentsState, domain.evolve)


async def commit_funds(
    conn: asyncpg.Connection,
    store: EventStore,
    signed: ConventionSigned,
    campaign: Campaign,
    now: datetime,
    *,
    caused_by: UUID,
) -> list[StoredEvent]:
    """In the consumer's tracking transaction: the signature's event is processed once."""
    payments = _payments(store)
    loaded = await payments.load(conn, signed.dossier_id)
    events = domain.commit(loaded.state, signed, campaign, now)
    return await payments.record(
        conn, loaded, events, now=now, actor="system:commitments", caused_by=caused_by
    )


async def _command(
    pool: asyncpg.Pool,
    store: EventStore,
    dossier_id: UUID,
    actor: Actor,
    now: datetime,
    decide: Decision,
) -> list[StoredEvent]:
    payments = _payments(store)

    async def work(conn: asyncpg.Connection) -> list[StoredEvent]:
        loaded = await payments.load(conn, dossier_id)
        return await payments.record(
            conn, loaded, decide(loaded.state), now=now, actor=actor.label()
        )

    return await in_transaction(pool, work)


async def pay_instalment(
    pool: asyncpg.Pool, store: EventStore, dossier_id: UUID, actor: Actor, now: datetime
) -> list[StoredEvent]:
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: domain.pay_instalment(state, actor, dossier_id, now),
    )


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
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: domain.submit_final_report(
            state,
            actor,
            dossier_id,
            justified_spending_eur=justified_spending_eur,
            summary=summary,
            now=now,
        ),
    )


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
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: domain.give_opinion(
            state, actor, dossier_id, opinion=opinion, motivation=motivation, now=now
        ),
    )


async def release_balance(
    pool: asyncpg.Pool, store: EventStore, dossier_id: UUID, actor: Actor, now: datetime
) -> list[StoredEvent]:
    return await _command(
        pool,
        store,
        dossier_id,
        actor,
        now,
        lambda state: domain.release_balance(state, actor, dossier_id, now),
    )
