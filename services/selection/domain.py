"""The selection of one dossier: its state, evolved event by event; eligibility; the common guards."""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from services.selection.eligibility import failed_rules
from services.selection.errors import (
    AlreadyDecided,
    DossierWithdrawn,
    NotEligible,
    NotYourDepartement,
    NotYourDossier,
    OpinionMissing,
    OverCap,
    OverRequest,
    UnknownDossier,
)
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionSignatureAdded,
    EligibilityChecked,
    GrantReleased,
    Opinion,
    Party,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    SelectionDecided,
)
from shared.language.actors import (
    Actor,
    Role,
    require_own_departement,
    require_own_dossier,
    require_role,
)
from shared.language.campaigns import Campaign
from shared.language.errors import Forbidden


@dataclass(frozen=True)
class SelectionState:
    checked: EligibilityChecked | None = None  # carries what every later step needs to know
    opinion: Opinion | None = None
    assessment: CommitteeAssessmentRecorded | None = None  # the latest: a later one replaces it
    decision: SelectionDecided | None = None
    signed_by: frozenset[Party] = frozenset()
    released: bool = False  # its grant went back to the envelope (withdrawn after selection)
    withdrawn: bool = False  # learnt from the applications' log, not from this stream

    @property
    def convention_signed(self) -> bool:
        return self.signed_by == frozenset(Party)


def evolve(state: SelectionState, event: DomainEvent) -> SelectionState:
    if isinstance(event, EligibilityChecked):
        return replace(state, checked=event)
    if isinstance(event, PrefectureOpinionGiven):
        return replace(state, opinion=event.opinion)
    if isinstance(event, CommitteeAssessmentRecorded):
        return replace(state, assessment=event)
    if isinstance(event, SelectionDecided):
        return replace(state, decision=event)
    if isinstance(event, ConventionSignatureAdded):
        return replace(state, signed_by=state.signed_by | {event.party})
    if isinstance(event, GrantReleased):
        return replace(state, released=True)
    return state


def check_eligibility(
    state: SelectionState, submitted: ApplicationSubmitted, campaign: Campaign, now: datetime
) -> list[DomainEvent]:
    """Check rules E1–E7; an eligible dossier goes, in the same breath, to its préfecture."""
    if state.checked is not None:  # a second delivery of the same dossier changes nothing
        return []
    dossier = submitted.dossier
    failures = failed_rules(dossier, campaign)
    checked = EligibilityChecked(
        dossier_id=submitted.dossier_id,
        reference=submitted.reference,
        campaign_id=submitted.campaign_id,
        eligible=not failures,
        failed_rules=failures,
        checked_at=now,
        siren=dossier.applicant.siren,
        applicant_name=dossier.applicant.name,
        departement=dossier.applicant.departement,
        requested_eur=dossier.requested_eur,
        objectives=dossier.project.objectives,
    )
    if failures or state.withdrawn:  # no préfecture is asked about a dossier already withdrawn
        return [checked]
    return [
        checked,
        PrefectureOpinionRequested(
            dossier_id=submitted.dossier_id,
            reference=submitted.reference,
            campaign_id=submitted.campaign_id,
            departement=dossier.applicant.departement,
            requested_at=now,
        ),
    ]


# Guards shared by the commands, in the order every command applies them:
# role (each command's own) → known → binding → withdrawn → the step's own state rules.


def known(state: SelectionState) -> EligibilityChecked:
    """What selection knows of the dossier; refused when it knows nothing of it."""
    if state.checked is None:
        if state.withdrawn:
            raise DossierWithdrawn(
                "the dossier was withdrawn by its applicant: nothing more is done on it"
            )
        raise UnknownDossier(
            "selection knows no such dossier: never submitted, "
            "or its eligibility is not checked yet"
        )
    return state.checked


def require_departement(actor: Actor, dossier: EligibilityChecked, to: str) -> None:
    """A préfecture acts on the dossiers of its own département only."""
    try:
        require_own_departement(actor, dossier.departement, to)
    except Forbidden as refusal:
        raise NotYourDepartement(refusal.detail) from None


def require_siren(actor: Actor, dossier: EligibilityChecked, to: str) -> None:
    """An applicant acts on the dossiers of its own SIREN only."""
    try:
        require_own_dossier(actor, dossier.siren, to)
    except Forbidden as refusal:
        raise NotYourDossier(refusal.detail) from None


def require_not_withdrawn(state: SelectionState, to: str) -> None:
    if state.withdrawn:
        raise DossierWithdrawn(f"the dossier was withdrawn by its applicant: no one may {to} now")


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
    state: SelectionState, actor: Actor, role: Role, to: str
) -> EligibilityChecked:
    """The guards of every step up to the decision; the dossier, when they all pass."""
    require_role(actor, role, to=to)
    dossier = known(state)
    require_departement(actor, dossier, to)
    require_not_withdrawn(state, to)
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
