"""Proofs of spending: files the collectivité attaches for its final report (invoices, payslips,
statements), once its funds are committed and until the balance settles its payments. Pure:
`decide`'s part."""

from typing import TYPE_CHECKING

from services.payments.commands import AddSpendingProof
from services.payments.errors import BalanceSettled, NothingCommitted
from shared.contracts import DomainEvent
from shared.contracts.payments import SpendingProofAdded
from shared.language.actors import Role, require_role, within_binding

if TYPE_CHECKING:  # the state is folded in domain.py, which hands each command to its part
    from services.payments.domain import PaymentsState


def add(state: "PaymentsState", c: AddSpendingProof) -> list[DomainEvent]:
    require_role(c.actor, Role.applicant, to="attach a proof of spending")
    committed = state.commitment
    if committed is None or not within_binding(c.actor, siren=committed.siren):
        raise NothingCommitted(
            f"payments knows no dossier {c.dossier_id}: no convention signed yet"
        )
    if state.settlement is not None:
        raise BalanceSettled(
            f"the payments of {committed.reference} are settled: no proof is added after the "
            "balance"
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
