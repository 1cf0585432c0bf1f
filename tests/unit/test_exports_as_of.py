"""The export rows of a campaign as of an instant, folded from events: the payments of one
dossier entry by entry, and where a selection dossier stands."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from services.payments.as_of import plan_rows
from services.selection.as_of import ranked, state_of
from services.selection.state import SelectionState
from shared.contracts.payments import (
    BalanceReleased,
    BalanceWithheld,
    FundsCommitted,
    InstalmentPaid,
    PlannedInstalment,
)

SIGNED = datetime(2025, 3, 1, 10, tzinfo=UTC)
DOSSIER = uuid4()


def committed() -> FundsCommitted:
    plan = [
        PlannedInstalment(number=1, label="advance", due_on="signature", amount_eur="50000.00"),
        PlannedInstalment(number=2, label="balance", due_on="balance", amount_eur="50000.00"),
    ]
    return FundsCommitted(
        dossier_id=DOSSIER,
        reference="AAP-2025-00001",
        campaign_id="demo",
        siren="213186091",
        departement="59",
        committed_eur="100000.00",
        plan=plan,
        committed_at=SIGNED,
    )


def advance_paid() -> InstalmentPaid:
    return InstalmentPaid(
        dossier_id=DOSSIER,
        reference="AAP-2025-00001",
        number=1,
        label="advance",
        amount_eur="50000.00",
        paid_total_eur="50000.00",
        paid_at=SIGNED + timedelta(days=2),
    )


def test_a_dossier_has_no_payment_rows_before_its_funds_are_committed():
    assert list(plan_rows([])) == []


def test_each_entry_of_the_plan_is_a_row_and_an_instalment_paid_says_when():
    advance, balance = plan_rows([committed(), advance_paid()])
    assert (advance["instalment"], advance["paid_eur"]) == (1, Decimal("50000.00"))
    assert advance["paid_at"] == SIGNED + timedelta(days=2)
    assert (balance["paid_eur"], balance["paid_at"]) == (None, None)
    assert advance["paid_total_eur"] == balance["paid_total_eur"] == Decimal("50000.00")
    assert balance["balance_status"] == "due"


def test_a_released_balance_pays_the_entry_due_on_the_balance():
    released = BalanceReleased(
        dossier_id=DOSSIER,
        reference="AAP-2025-00001",
        amount_eur="42000.00",
        paid_total_eur="92000.00",
        released_at=SIGNED + timedelta(days=400),
    )
    _, balance = plan_rows([committed(), advance_paid(), released])
    assert (balance["paid_eur"], balance["balance_eur"]) == (Decimal("42000.00"),) * 2
    assert (balance["balance_status"], balance["paid_total_eur"]) == (
        "released",
        Decimal("92000.00"),
    )


def test_a_withheld_balance_pays_nothing_and_says_what_it_would_have_been():
    withheld = BalanceWithheld(
        dossier_id=DOSSIER,
        reference="AAP-2025-00001",
        withheld_eur="50000.00",
        motivation="Les actions prévues n'ont pas été menées.",
        withheld_at=SIGNED + timedelta(days=400),
    )
    _, balance = plan_rows([committed(), advance_paid(), withheld])
    assert (balance["paid_eur"], balance["balance_status"]) == (None, "withheld")
    assert balance["balance_settled_at"] == SIGNED + timedelta(days=400)


def test_a_withdrawn_dossier_stands_withdrawn_before_anything_else():
    assert state_of(SelectionState(), withdrawn=True) == "withdrawn"
    assert state_of(SelectionState(), withdrawn=False) == "submitted"


def test_the_ranking_as_of_keeps_ties_by_reference_and_leaves_out_the_withdrawn():
    rows = [
        {"reference": "A-1", "weighted_score": Decimal("3.00"), "withdrawn": False},
        {"reference": "A-2", "weighted_score": Decimal("4.00"), "withdrawn": False},
        {"reference": "A-3", "weighted_score": Decimal("3.00"), "withdrawn": False},
        {"reference": "A-4", "weighted_score": Decimal("5.00"), "withdrawn": True},
        {"reference": "A-5", "weighted_score": None, "withdrawn": False},
    ]
    assert [(r["rank"], r["reference"]) for r in ranked(rows)] == [
        (1, "A-2"),
        (2, "A-1"),
        (3, "A-3"),
    ]
