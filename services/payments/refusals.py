"""The named refusals of the payments service, and the checks that raise them. Pure."""

from uuid import UUID

from shared.contracts.payments import BalanceReleased, BalanceWithheld, FundsCommitted
from shared.language.actors import Actor, require_own_departement, require_own_dossier
from shared.language.errors import Forbidden, NotFound, Refused


class NothingCommitted(NotFound):
    """Payments knows a dossier only once its convention is signed and its funds committed."""


class NotYourDossier(Forbidden):
    pass


class NotYourDepartement(Forbidden):
    pass


class BalanceIsNext(Refused):
    """Every instalment is paid: what remains is the balance, released on its own route."""


class BalanceSettled(Refused):
    """The balance was released (or withheld): the dossier's payments are closed."""


class BalanceWithheldError(BalanceSettled):
    """An unfavourable departmental opinion withheld the balance."""


class ReportAlreadySubmitted(Refused):
    pass


class ReportMissing(Refused):
    pass


class OpinionAlreadyGiven(Refused):
    pass


class OpinionMissing(Refused):
    pass


def committed_of(commitment: FundsCommitted | None, dossier_id: UUID) -> FundsCommitted:
    if commitment is None:
        raise NothingCommitted(f"payments knows no dossier {dossier_id}: no convention signed yet")
    return commitment


def still_open(settlement: BalanceReleased | BalanceWithheld | None) -> None:
    """The balance, released or withheld, closes the dossier's payments."""
    if isinstance(settlement, BalanceWithheld):
        raise BalanceWithheldError(
            f"the balance of {settlement.reference} was withheld on an unfavourable departmental "
            f"opinion ({settlement.withheld_at.isoformat()}): no payment follows"
        )
    if isinstance(settlement, BalanceReleased):
        raise BalanceSettled(
            f"the balance of {settlement.reference} was released on "
            f"{settlement.released_at.isoformat()}: the dossier's payments are closed"
        )


def require_binding(actor: Actor, commitment: FundsCommitted, to: str) -> None:
    """An applicant acts on its SIREN's dossiers, a préfecture on its département's; the shared
    checks' refusals, named for this service."""
    try:
        require_own_dossier(actor, commitment.siren, to)
    except Forbidden as forbidden:
        raise NotYourDossier(forbidden.detail) from None
    try:
        require_own_departement(actor, commitment.departement, to)
    except Forbidden as forbidden:
        raise NotYourDepartement(forbidden.detail) from None
