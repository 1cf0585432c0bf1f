"""The guards the steps share, in the order each applies them: role (the step's own) → known and
within the actor's binding → not withdrawn → the step's own state rules."""

from decimal import Decimal

from services.selection.errors import (
    AlreadyDecided,
    DossierWithdrawn,
    NotEligible,
    OpinionMissing,
    OverCap,
    OverRequest,
    ReviewsMissing,
    UnknownDossier,
)
from services.selection.state import SelectionState
from shared.contracts.selection import EligibilityChecked
from shared.language.actors import Actor, Role, require_role, within_binding
from shared.language.campaigns import Campaign, Committee

UNKNOWN = "selection knows no such dossier: never submitted, or its eligibility is not checked yet"


def known_to(actor: Actor, state: SelectionState) -> EligibilityChecked:
    """What selection knows of the dossier. Refused as not found when it knows nothing of it,
    and, alike, when the dossier is outside the actor's binding."""
    dossier = state.checked
    if dossier is None or not within_binding(
        actor, siren=dossier.siren, departement=dossier.departement
    ):
        raise UnknownDossier(UNKNOWN)
    return dossier


def require_not_withdrawn(withdrawn: bool, to: str) -> None:
    if withdrawn:
        raise DossierWithdrawn(
            f"the dossier was withdrawn by its applicant (or closed as incomplete): no one may "
            f"{to} now"
        )


def require_eligible(dossier: EligibilityChecked, to: str) -> None:
    if not dossier.eligible:
        rules = ", ".join(f.rule for f in dossier.failed_rules)
        raise NotEligible(f"the dossier failed the eligibility check ({rules}): no one may {to}")


def require_undecided(state: SelectionState) -> None:
    if state.decision is not None:
        raise AlreadyDecided(
            f"the President already decided on this dossier "
            f"({state.decision.outcome.value}): its instruction is closed"
        )


def under_instruction(
    state: SelectionState, actor: Actor, role: Role, withdrawn: bool, to: str
) -> EligibilityChecked:
    """The guards of every step up to the decision; the dossier, when they all pass."""
    require_role(actor, role, to=to)
    dossier = known_to(actor, state)
    require_not_withdrawn(withdrawn, to)
    require_undecided(state)
    require_eligible(dossier, to)
    return dossier


def require_opinion(state: SelectionState, why: str) -> None:
    if state.opinion is None:
        raise OpinionMissing(f"the préfecture has not given its opinion yet: {why}")


def require_within_request_and_cap(
    amount: Decimal, dossier: EligibilityChecked, campaign: Campaign
) -> None:
    if amount > dossier.requested_eur:
        raise OverRequest(
            f"{amount} EUR exceeds the {dossier.requested_eur} EUR the applicant requested"
        )
    if amount > campaign.cap_eur:
        raise OverCap(
            f"{amount} EUR exceeds the campaign's cap of {campaign.cap_eur} EUR per project"
        )


def require_reviews(state: SelectionState, committee: Committee) -> None:
    """The consensus settles the reviews of as many reviewers without conflict as the campaign
    asks; none when its committee assesses in one voice."""
    needed = committee.reviewers_per_dossier
    counted = state.reviewers.counted
    if len(counted) < needed:
        done = f" ({', '.join(sorted(counted))})" if counted else ""
        raise ReviewsMissing(
            f"the consensus settles the reviews of {needed} reviewers without conflict of "
            f"interest: {len(counted)} are in{done}, {needed - len(counted)} more needed"
        )
