"""The sums of a dossier's payments: its plan from the campaign's shares, and the balance due."""

from collections.abc import Sequence
from decimal import Decimal

from shared.contracts.payments import PlannedInstalment
from shared.language.campaigns import Instalment, instalment_amounts

BALANCE = "balance"  # the `due_on` of the plan's last entry: the solde
ZERO = Decimal("0.00")


def plan_of(payment_plan: Sequence[Instalment], granted_eur: Decimal) -> list[PlannedInstalment]:
    """The campaign's plan for this grant (shared.language.campaigns.instalment_amounts)."""
    amounts = instalment_amounts(payment_plan, granted_eur)
    return [
        PlannedInstalment(number=number, label=entry.label, due_on=entry.due_on, amount_eur=amount)
        for number, (entry, amount) in enumerate(zip(payment_plan, amounts, strict=True), start=1)
    ]


def balance_due(
    committed_eur: Decimal, justified_spending_eur: Decimal, paid_total_eur: Decimal
) -> Decimal:
    """The solde: total payments never exceed the grant nor the justified spending."""
    return max(ZERO, min(committed_eur, justified_spending_eur) - paid_total_eur)
