"""A campaign's payments as a table to export, one row per entry of each dossier's plan: read
from payments' read model by a server-side cursor, or as they stood at an instant, folded from
payments' own store (services/payments/as_of.py).

One row per plan entry, not per dossier: each row is one payment order an accountant matches
with the ledger, whatever the campaign's plan (two entries or four), so the columns never depend
on the plan; a dossier's rows repeat its figures, and its `paid_eur` add up to `paid_total_eur`.

The columns are a contract (docs/exports.md): named once here, in this order; a new column is
added at the end, none is renamed.
"""

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import asyncpg

from services.payments import as_of
from services.payments.plan import BALANCE
from shared.contracts import DomainEvent, read_event
from shared.contracts.base import TYPE_PREFIX
from shared.contracts.payments import FundsCommitted
from shared.kernel.exports import Column, field, link, streamed


def payment_columns(console_url: str) -> list[Column]:
    remaining = Column(
        "remaining_eur",
        lambda row: row["committed_eur"] - row["paid_total_eur"],
        "what remains to pay of the grant",
    )
    return [
        field("reference", "the dossier's number, e.g. AAP-2024-00042"),
        field("dossier_id", "its id in aap's events"),
        link(console_url),
        field("siren", "the collectivité's SIREN"),
        field("departement", "its département"),
        field("committed_eur", "the grant committed at the convention's signature"),
        field("committed_at", "when it was committed (UTC in XLSX and ODS)"),
        field("paid_total_eur", "what the dossier was paid so far, all entries"),
        remaining,
        field("instalment", "the entry's number in the plan: 1, 2, …"),
        field("label", "the entry's name in the campaign's plan, e.g. advance"),
        field("due_on", "what it is due on: signature, activity_report, … or balance"),
        field("amount_eur", "the entry's amount in the plan"),
        Column("status", _status, "paid, due, or withheld (the balance, after its opinion)"),
        field("paid_eur", "what was paid for it"),
        field("paid_at", "when it was paid"),
        field("balance_status", "the dossier's balance: due, released or withheld"),
        field("balance_eur", "the balance: as planned until settled, then released or withheld"),
        field("balance_settled_at", "when the balance was released or withheld"),
        field("final_report_submitted_at", "when the final report was filed"),
        field("justified_spending_eur", "the spending the final report justifies"),
        field("departmental_opinion", "the préfecture's opinion before the balance"),
    ]


def _status(row: Mapping[str, Any]) -> str:
    if row["paid_at"] is not None:
        return "paid"
    if row["due_on"] == BALANCE and row["balance_status"] == "withheld":
        return "withheld"
    return "due"


_PAYMENTS = """
SELECT d.dossier_id, d.reference, d.siren, d.departement, d.committed_eur, d.committed_at,
       d.paid_total_eur, i.number AS instalment, i.label, i.due_on, i.amount_eur, i.paid_eur,
       i.paid_at, d.balance_status, d.balance_eur, d.balance_settled_at,
       d.report_submitted_at AS final_report_submitted_at, d.justified_spending_eur,
       d.opinion AS departmental_opinion
FROM payments_dossiers d JOIN payments_instalments i ON i.dossier_id = d.dossier_id
WHERE d.campaign_id = $1 AND ($2::text IS NULL OR d.departement = $2)
ORDER BY d.reference, i.number
"""

# The campaign's commitments recorded by the instant (a range of the index on the event's type),
# then each one's stream up to the instant, in order.
_AS_OF = """
WITH committed AS (
    SELECT stream_id, data->>'reference' AS reference FROM events
    WHERE event_type = ANY($2::text[]) AND data->>'campaign_id' = $1 AND recorded_at <= $3
      AND ($4::text IS NULL OR data->>'departement' = $4)
)
SELECT c.stream_id, e.event_type, e.data
FROM committed c JOIN events e ON e.stream_id = c.stream_id AND e.recorded_at <= $3
ORDER BY c.reference, c.stream_id, e.version
"""
_COMMITTED = [
    f"{TYPE_PREFIX}{FundsCommitted.name}.v{v}" for v in range(1, FundsCommitted.version + 1)
]


async def payments(
    pool: asyncpg.Pool, campaign_id: str, departement: str | None, at: datetime | None = None
) -> AsyncIterator[Mapping[str, Any]]:
    """The live rows, or, given an instant, the rows as they stood then."""
    if at is None:
        async for row in streamed(pool, _PAYMENTS, campaign_id, departement):
            yield row
        return
    stream: str | None = None
    events: list[DomainEvent] = []
    async for record in streamed(pool, _AS_OF, campaign_id, _COMMITTED, at, departement):
        if stream != record["stream_id"]:
            for row in as_of.plan_rows(events):
                yield row
            stream, events = record["stream_id"], []
        events.append(read_event(record["event_type"], json.loads(record["data"])))
    for row in as_of.plan_rows(events):
        yield row
