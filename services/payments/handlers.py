"""Payments' commands and reactions, each run by the kernel on the dossier's stream."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from services.payments.commands import (
    ActorCommand,
    CommitFunds,
    GiveOpinion,
    PayInstalment,
    ReleaseBalance,
    SubmitFinalReport,
)
from services.payments.domain import PAYMENTS
from shared.contracts.payments import DepartmentalOpinion
from shared.kernel.aggregate import execute, run
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor


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
