"""A dossier's payments as they stood at an instant: its export rows, one per entry of its plan,
folded from its own stream by the decider's `evolve` (the fold every command runs on).

Pure. The columns are those of the live export (services/payments/exports.py), so that an
export as of now equals the live one; the amounts and instants of each payment are read from
the events that paid them (the decider's state keeps only which entries were paid).
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from services.payments.domain import PAYMENTS
from services.payments.plan import BALANCE
from shared.contracts import DomainEvent
from shared.contracts.payments import BalanceReleased, BalanceWithheld, InstalmentPaid


def plan_rows(events: Iterable[DomainEvent]) -> Iterator[dict[str, Any]]:
    """The rows of one dossier (none before its funds were committed), in the plan's order."""
    state, paid = PAYMENTS.initial, dict[int, tuple[Decimal, datetime]]()
    for event in events:
        state = PAYMENTS.evolve(state, event)
        if isinstance(event, InstalmentPaid):
            paid[event.number] = (event.amount_eur, event.paid_at)
    committed = state.commitment
    if committed is None:
        return
    balance: dict[str, Any] = {
        "balance_status": "due",
        "balance_eur": committed.plan[-1].amount_eur,
    }
    match state.settlement:
        case BalanceReleased() as released:
            for entry in committed.plan:  # as the read model: the entry due on the balance
                if entry.due_on == BALANCE:
                    paid[entry.number] = (released.amount_eur, released.released_at)
            balance = _settled("released", released.amount_eur, released.released_at)
        case BalanceWithheld() as withheld:
            balance = _settled("withheld", withheld.withheld_eur, withheld.withheld_at)
    report, opinion = state.report, state.opinion
    dossier = {
        "dossier_id": committed.dossier_id,
        "reference": committed.reference,
        "siren": committed.siren,
        "departement": committed.departement,
        "committed_eur": committed.committed_eur,
        "committed_at": _utc(committed.committed_at),
        "paid_total_eur": state.paid_total,
        "balance_settled_at": None,
        **balance,
        "final_report_submitted_at": None if report is None else _utc(report.submitted_at),
        "justified_spending_eur": None if report is None else report.justified_spending_eur,
        "departmental_opinion": None if opinion is None else opinion.opinion.value,
    }
    for entry in committed.plan:
        paid_eur, paid_at = paid.get(entry.number, (None, None))
        yield {
            **dossier,
            "instalment": entry.number,
            "label": entry.label,
            "due_on": entry.due_on,
            "amount_eur": entry.amount_eur,
            "paid_eur": paid_eur,
            "paid_at": None if paid_at is None else _utc(paid_at),
        }


def _settled(status: str, amount: Decimal, at: datetime) -> dict[str, Any]:
    return {"balance_status": status, "balance_eur": amount, "balance_settled_at": _utc(at)}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
