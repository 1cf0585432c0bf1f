"""The attestation of one payment (an instalment or the balance): what was paid, when, under
which grant and convention, what is paid in all and what remains. Pure."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from services.notifications.documents.dossier import (
    Attested,
    Holder,
    NoSuchDocument,
    holder,
    last_of,
    up_to,
)
from shared.audit import AuditEvent
from shared.contracts.payments import BalanceReleased, FundsCommitted, InstalmentPaid
from shared.contracts.selection import ConventionSigned

PAYMENTS = ("InstalmentPaid", "BalanceReleased")


@dataclass(frozen=True)
class Attestation:
    holder: Holder
    number: int  # the payment's number in the plan
    due_on: str  # signature, activity_report, balance
    amount_eur: Decimal
    paid_at: datetime
    paid_total_eur: Decimal
    committed_eur: Decimal
    committed_at: datetime
    convention_signed_at: datetime
    attested: Attested

    @property
    def remaining_eur(self) -> Decimal:
        return max(Decimal("0.00"), self.committed_eur - self.paid_total_eur)


def attestation(trail: Sequence[AuditEvent], event_id: UUID) -> Attestation:
    """The attestation of the payment `event_id`; NoSuchDocument for any other event."""
    known = up_to(trail, event_id)
    recorded = known[-1]
    if recorded.type not in PAYMENTS:
        raise NoSuchDocument(f"event {event_id} is not a payment of this dossier")
    paid = recorded.event()
    committed = last_of(known, "FundsCommitted").event()
    signed = last_of(known, "ConventionSigned").event()
    assert isinstance(committed, FundsCommitted) and isinstance(signed, ConventionSigned)
    if isinstance(paid, InstalmentPaid):
        number, amount, at = paid.number, paid.amount_eur, paid.paid_at
    else:
        assert isinstance(paid, BalanceReleased)
        number, amount, at = len(committed.plan), paid.amount_eur, paid.released_at
    due_on = next((i.due_on for i in committed.plan if i.number == number), "balance")
    return Attestation(
        holder=holder(known),
        number=number,
        due_on=due_on,
        amount_eur=amount,
        paid_at=at,
        paid_total_eur=paid.paid_total_eur,
        committed_eur=committed.committed_eur,
        committed_at=committed.committed_at,
        convention_signed_at=signed.signed_at,
        attested=Attested.of(recorded),
    )


def payments(trail: Sequence[AuditEvent]) -> list[AuditEvent]:
    """The dossier's payments, each with an attestation."""
    return [e for e in trail if e.type in PAYMENTS]
