"""Proofs of spending: files the collectivité attaches for its final report (invoices, payslips,
statements), once its funds are committed and until the balance settles its payments. Pure:
`decide`'s part."""

from typing import TYPE_CHECKING

from services.payments.commands import AddSpendingProof
from services.payments.guards import applicant_before_settlement
from shared.contracts import DomainEvent
from shared.contracts.payments import SpendingProofAdded

if TYPE_CHECKING:  # the state is folded in domain.py, which hands each command to its part
    from services.payments.domain import PaymentsState


def add(state: "PaymentsState", c: AddSpendingProof) -> list[DomainEvent]:
    committed = applicant_before_settlement(
        state, c.actor, c.dossier_id, "attach a proof of spending", "proof is added"
    )
    if c.attachment.attachment_id in state.proofs:
        return []  # a retry of the same upload
    return [
        SpendingProofAdded(
            dossier_id=c.dossier_id,
            reference=committed.reference,
            attachment=c.attachment,
            added_at=c.now,
        )
    ]
