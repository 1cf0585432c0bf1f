"""The sums of a dossier's payments: its plan from the campaign's shares, and the balance due."""

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from shared.contracts.payments import PlannedInstalment
from shared.contracts.values import CENT
from shared.language.campaigns import Instalment

BALANCE = "balance"  # the `due_on` of the plan's last entry: the solde
ZERO = Decimal("0.00")


def plan_of(payment_plan: Sequence[Instalment], granted_eur: Decimal) -> list[PlannedInstalment]:
    """Each instalment is its share of the grant rounded down to the cent; the balance (last)
    takes the rest, so the plan adds up exactly to the grant and never a cent above it."""
    *instalments, _ = payment_plan
    amounts = [(i.share * granted_eur).quantize(CENT, rounding=ROUND_DOWN) for i in instalments]
    amounts.append(granted_eur - sum(amounts, ZERO))
    return [
        PlannedInstalment(number=number, label=entry.label, due_on=entry.due_on, amount_eur=amount)
        for number, (entry, amount) in enumerate(zip(payment_plan, amounts, strict=True), start=1)
    ]


def balance_due(
    committed_eur: Decimal, justified_spending_eur: Decimal, paid_total_eur: Decimal
) -> Decimal:
    """The solde: total payments never exceed the grant nor the justified spending."""
    return max(ZERO, min(committed_eur, justified_spending_eur) - paid_total_eur)
