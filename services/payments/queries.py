"""Payments' read side: one dossier's commitment, plan, payments and balance."""

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from services.payments.activity import reports_needed
from shared.contracts.payments import PlannedInstalment
from shared.kernel import db
from shared.kernel.rows import as_json
from shared.language.actors import Actor, within_binding

_DOSSIER = "SELECT * FROM payments_dossiers WHERE dossier_id = $1"
_PLAN = "SELECT * FROM payments_instalments WHERE dossier_id = $1 ORDER BY number"


async def dossier(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    """The read model of one dossier, as the API shows it; None when payments knows none."""
    async with db.snapshot(pool) as conn:  # its row and its plan as of one commit
        row = await conn.fetchrow(_DOSSIER, dossier_id)
        if row is None:
            return None
        plan = await conn.fetch(_PLAN, dossier_id)
    d = dict(row)
    report = None
    if d["report_submitted_at"] is not None:
        report = {
            "justified_spending_eur": _eur(d["justified_spending_eur"]),
            "summary": d["report_summary"],
            "submitted_at": d["report_submitted_at"].isoformat(),
        }
    opinion = None
    if d["opinion"] is not None:
        opinion = {
            "opinion": d["opinion"],
            "motivation": d["opinion_motivation"],
            "given_at": d["opinion_given_at"].isoformat(),
        }
    return {
        "dossier_id": str(d["dossier_id"]),
        "activity_reports": {
            "count": d["activity_reports"],
            "last_submitted_at": _time(d["activity_report_submitted_at"]),
            "last_spent_to_date_eur": _eur(d["activity_report_spent_eur"]),
            "last_instalment_asked": d["activity_instalment_asked"],
        },
        "next_instalment": _next(plan, d["activity_reports"]),
        "reference": d["reference"],
        "campaign_id": d["campaign_id"],
        "siren": d["siren"],
        "departement": d["departement"],
        "committed_eur": _eur(d["committed_eur"]),
        "committed_at": d["committed_at"].isoformat(),
        "plan": [
            {
                "number": p["number"],
                "label": p["label"],
                "due_on": p["due_on"],
                "amount_eur": _eur(p["amount_eur"]),
                "paid": p["paid_at"] is not None,
                "paid_eur": _eur(p["paid_eur"]),
                "paid_at": _time(p["paid_at"]),
            }
            for p in plan
        ],
        "paid_total_eur": _eur(d["paid_total_eur"]),
        "remaining_eur": _eur(d["committed_eur"] - d["paid_total_eur"]),
        "final_report": report,
        "final_report_due_at": _time(d["final_report_due_at"]),
        "final_report_overdue": d["final_report_overdue"],
        "departmental_opinion": opinion,
        "balance": {
            "status": d["balance_status"],
            "amount_eur": _eur(d["balance_eur"]),
            "settled_at": _time(d["balance_settled_at"]),
        },
    }


def _next(plan: list[asyncpg.Record], filed: int) -> dict[str, Any] | None:
    """The plan's next unpaid entry (None when all is paid), and how many activity reports it
    still awaits: the instructor pays it only when that is none (the balance has its route)."""
    entries = [
        PlannedInstalment(
            number=p["number"], label=p["label"], due_on=p["due_on"], amount_eur=p["amount_eur"]
        )
        for p in plan
    ]
    unpaid = [e for e, p in zip(entries, plan, strict=True) if p["paid_at"] is None]
    if not unpaid:
        return None
    entry = unpaid[0]
    needed = reports_needed(entries, entry)
    return {
        "number": entry.number,
        "label": entry.label,
        "due_on": entry.due_on,
        "amount_eur": _eur(entry.amount_eur),
        "awaits_activity_report": filed < needed,
        "activity_report_awaited": needed if filed < needed else None,
    }


def _eur(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


_PROOFS = """
SELECT attachment_id, name, media_type, size, sha256, added_at FROM spending_proofs
WHERE dossier_id = $1 ORDER BY added_at, name
"""


async def proofs(pool: asyncpg.Pool, dossier_id: UUID) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return [as_json(r) for r in await conn.fetch(_PROOFS, dossier_id)]


async def proof(pool: asyncpg.Pool, dossier_id: UUID, attachment_id: UUID) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM spending_proofs WHERE dossier_id = $1 AND attachment_id = $2",
            dossier_id,
            attachment_id,
        )
    return None if row is None else as_json(row)


async def dossier_for(pool: asyncpg.Pool, dossier_id: UUID, actor: Actor) -> dict[str, Any] | None:
    """The dossier, when it is within the actor's binding; None as for one payments knows not."""
    view = await dossier(pool, dossier_id)
    if view is None or not within_binding(
        actor, siren=view["siren"], departement=view["departement"]
    ):
        return None
    return view
