"""What the applicant's own acts on its payments require: funds committed for its SIREN, and
the payments not yet settled by the balance. Pure."""

from typing import TYPE_CHECKING
from uuid import UUID

from services.payments.errors import BalanceSettled, NothingCommitted
from shared.contracts.payments import FundsCommitted
from shared.language.actors import Actor, Role, require_role, within_binding

if TYPE_CHECKING:  # the state is folded in domain.py, which hands each command to its part
    from services.payments.domain import PaymentsState


def applicant_before_settlement(
    state: "PaymentsState", actor: Actor, dossier_id: UUID, to: str, what: str
) -> FundsCommitted:
    """The commitment the applicant acts on; `what` names what is refused after the balance."""
    require_role(actor, Role.applicant, to=to)
    committed = state.commitment
    if committed is None or not within_binding(actor, siren=committed.siren):
        raise NothingCommitted(f"payments knows no dossier {dossier_id}: no convention signed yet")
    if state.settlement is not None:
        raise BalanceSettled(
            f"the payments of {committed.reference} are settled: no {what} after the balance"
        )
    return committed
