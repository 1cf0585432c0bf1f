"""Payments' read model, from its own events: one row per dossier, one per plan entry."""

from typing import Any
from uuid import UUID

import asyncpg

from shared.contracts.payments import (
    ActivityReportSubmitted,
    BalanceReleased,
    BalanceWithheld,
    DepartmentalOpinionGiven,
    FinalReportOverdue,
    FinalReportSubmitted,
    FundsCommitted,
    InstalmentPaid,
    SpendingProofAdded,
)
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope

_COMMITTED = """
INSERT INTO payments_dossiers (dossier_id, reference, campaign_id, siren, departement,
                               committed_eur, committed_at, balance_eur, final_report_due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

_PLANNED = """
INSERT INTO payments_instalments (dossier_id, number, label, due_on, amount_eur)
VALUES ($1, $2, $3, $4, $5)
"""

_PAID = """
UPDATE payments_instalments SET paid_eur = $3, paid_at = $4
WHERE dossier_id = $1 AND number = $2
"""

_BALANCE_PAID = """
UPDATE payments_instalments SET paid_eur = $2, paid_at = $3
WHERE dossier_id = $1 AND due_on = 'balance'
"""


async def on_committed(conn: asyncpg.Connection, e: FundsCommitted, _: Envelope) -> None:
    await conn.execute(
        _COMMITTED,
        e.dossier_id,
        e.reference,
        e.campaign_id,
        e.siren,
        e.departement,
        e.committed_eur,
        e.committed_at,
        e.plan[-1].amount_eur,
        e.final_report_due_at,
    )
    await conn.executemany(
        _PLANNED, [(e.dossier_id, p.number, p.label, p.due_on, p.amount_eur) for p in e.plan]
    )


async def on_paid(conn: asyncpg.Connection, e: InstalmentPaid, _: Envelope) -> None:
    await conn.execute(_PAID, e.dossier_id, e.number, e.amount_eur, e.paid_at)
    await _set(conn, e.dossier_id, paid_total_eur=e.paid_total_eur)


async def on_activity_report(
    conn: asyncpg.Connection, e: ActivityReportSubmitted, _: Envelope
) -> None:
    await _set(
        conn,
        e.dossier_id,
        activity_reports=e.number,
        activity_report_submitted_at=e.submitted_at,
        activity_report_spent_eur=e.spent_to_date_eur,
        activity_instalment_asked=e.instalment_asked,
    )


async def on_report(conn: asyncpg.Connection, e: FinalReportSubmitted, _: Envelope) -> None:
    await _set(
        conn,
        e.dossier_id,
        justified_spending_eur=e.justified_spending_eur,
        report_summary=e.summary,
        report_submitted_at=e.submitted_at,
    )


async def on_report_overdue(conn: asyncpg.Connection, e: FinalReportOverdue, _: Envelope) -> None:
    # stays true once the report comes: it came late
    await _set(conn, e.dossier_id, final_report_overdue=True)


async def on_opinion(conn: asyncpg.Connection, e: DepartmentalOpinionGiven, _: Envelope) -> None:
    await _set(
        conn,
        e.dossier_id,
        opinion=e.opinion.value,
        opinion_motivation=e.motivation,
        opinion_given_at=e.given_at,
    )


async def on_released(conn: asyncpg.Connection, e: BalanceReleased, _: Envelope) -> None:
    await conn.execute(_BALANCE_PAID, e.dossier_id, e.amount_eur, e.released_at)
    await _set(
        conn,
        e.dossier_id,
        balance_status="released",
        balance_eur=e.amount_eur,
        paid_total_eur=e.paid_total_eur,
        balance_settled_at=e.released_at,
    )


async def on_withheld(conn: asyncpg.Connection, e: BalanceWithheld, _: Envelope) -> None:
    await _set(
        conn,
        e.dossier_id,
        balance_status="withheld",
        balance_eur=e.withheld_eur,
        balance_settled_at=e.withheld_at,
    )


async def _set(conn: asyncpg.Connection, dossier_id: UUID, **columns: Any) -> None:
    """Update a dossier's row; the column names come from this module, never from outside."""
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE payments_dossiers SET {assignments} WHERE dossier_id = $1",
        dossier_id,
        *columns.values(),
    )


def dossiers() -> Subscription:
    return Subscription(
        Consumer(
            "dossiers",
            {
                FundsCommitted: on_committed,
                InstalmentPaid: on_paid,
                ActivityReportSubmitted: on_activity_report,
                FinalReportSubmitted: on_report,
                FinalReportOverdue: on_report_overdue,
                DepartmentalOpinionGiven: on_opinion,
                BalanceReleased: on_released,
                BalanceWithheld: on_withheld,
            },
        ),
        services=["payments"],
        read_models=["payments_dossiers", "payments_instalments"],
    )


async def on_proof(conn: asyncpg.Connection, e: SpendingProofAdded, _: Envelope) -> None:
    a = e.attachment
    await conn.execute(
        "INSERT INTO spending_proofs VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        a.attachment_id,
        e.dossier_id,
        a.name,
        a.media_type,
        a.size,
        a.sha256,
        e.added_at,
    )


def proofs() -> Subscription:
    """The proofs of spending attached for each final report."""
    return Subscription(
        Consumer("proofs", {SpendingProofAdded: on_proof}),
        services=["payments"],
        read_models=["spending_proofs"],
    )
