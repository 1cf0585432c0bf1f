"""The committee on one dossier: its reviewers named (or volunteering), each declaring their
interests before seeing it, scoring it alone, until the moderator records their consensus."""

from services.selection.commands import AssignReviewer, DeclareInterests, SubmitReview
from services.selection.errors import (
    ConsensusRecorded,
    NotAReviewer,
    ReviewerNotCleared,
    ReviewersComplete,
    ReviewerTaken,
    UnknownDossier,
)
from services.selection.guards import (
    UNKNOWN,
    require_eligible,
    require_not_withdrawn,
    require_opinion,
    require_undecided,
    require_within_request_and_cap,
    under_instruction,
)
from services.selection.instruction import weighted_score
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.committee import (
    NoConflictDeclared,
    ReviewerAssigned,
    ReviewerRecused,
    ReviewSubmitted,
)
from shared.contracts.selection import EligibilityChecked
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign, Committee, find
from shared.language.errors import Forbidden

ASSIGN = "name a reviewer of this dossier"
DECLARE = "declare their interests in this dossier"
REVIEW = "review this dossier"


def _open_to_reviews(state: SelectionState, committee: Committee, to: str) -> None:
    if committee.reviewers_per_dossier == 0:
        raise NotAReviewer(
            f"this campaign's committee assesses in one voice (no reviewers per dossier): no one "
            f"may {to}"
        )
    if state.assessment is not None:
        raise ConsensusRecorded(
            "the moderator recorded the committee's consensus on this dossier: its reviews are "
            "closed"
        )


def _campaign(
    state: SelectionState, c: AssignReviewer | DeclareInterests | SubmitReview
) -> Campaign:
    assert state.checked is not None, "the guards found the dossier first"
    return find(c.campaigns, state.checked.campaign_id)


def _seat(state: SelectionState, committee: Committee, reviewer: str) -> None:
    """A seat for one more reviewer, or the reason there is none."""
    r = state.reviewers
    if reviewer in r.recused:
        raise ReviewerTaken(
            f"{reviewer} declared a conflict of interest with this dossier: recused for good"
        )
    if reviewer in r.assigned:
        raise ReviewerTaken(f"{reviewer} already reviews this dossier")
    if len(r.seated) >= committee.reviewers_per_dossier:
        raise ReviewersComplete(
            f"the dossier has its {committee.reviewers_per_dossier} reviewers "
            f"({', '.join(r.seated)}): another is needed only if one of them is recused"
        )


def _assigned(
    dossier: EligibilityChecked, reviewer: str, by: Actor, c: AssignReviewer | DeclareInterests
) -> ReviewerAssigned:
    return ReviewerAssigned(
        dossier_id=dossier.dossier_id,
        reference=dossier.reference,
        campaign_id=dossier.campaign_id,
        reviewer=reviewer,
        assigned_by=by.label(),
        assigned_at=c.now,
    )


def assign(state: SelectionState, c: AssignReviewer) -> list[DomainEvent]:
    dossier = under_instruction(state, c.actor, Role.instructor, c.withdrawn, ASSIGN)
    committee = _campaign(state, c).committee
    _open_to_reviews(state, committee, ASSIGN)
    reviewer = c.reviewer.strip().lower()
    _seat(state, committee, reviewer)
    return [_assigned(dossier, reviewer, c.actor, c)]


def _reviewers_dossier(state: SelectionState, withdrawn: bool, to: str) -> EligibilityChecked:
    """The guards of a step up to the decision, for a reviewer (whose binding is the dossiers
    their declarations open, checked by each step)."""
    dossier = state.checked
    if dossier is None:
        raise UnknownDossier(UNKNOWN)
    require_not_withdrawn(withdrawn, to)
    require_undecided(state)
    require_eligible(dossier, to)
    return dossier


def declare(state: SelectionState, c: DeclareInterests) -> list[DomainEvent]:
    """No conflict: the reviewer may read and score the dossier. A conflict: recused for good,
    and a seat opens for another reviewer."""
    if c.actor.role is not Role.reviewer:
        raise Forbidden(f"{c.actor.describe()} may not {DECLARE}: only a committee member may")
    dossier = _reviewers_dossier(state, c.withdrawn, DECLARE)
    committee = _campaign(state, c).committee
    reviewer, r = c.actor.subject, state.reviewers
    events: list[DomainEvent] = []
    if reviewer not in r.assigned:
        if committee.assignment != "volunteer" or committee.reviewers_per_dossier == 0:
            raise UnknownDossier(UNKNOWN)  # not theirs: as if it did not exist
        _open_to_reviews(state, committee, DECLARE)
        _seat(state, committee, reviewer)
        events.append(_assigned(dossier, reviewer, c.actor, c))
    else:
        _open_to_reviews(state, committee, DECLARE)
    if reviewer in r.recused:
        raise ReviewerTaken(f"{reviewer} is recused from this dossier: their declaration stands")
    if reviewer in r.cleared and c.conflict is None:
        raise ReviewerTaken(f"{reviewer} already declared no conflict of interest")
    where = {
        "dossier_id": dossier.dossier_id,
        "reference": dossier.reference,
        "campaign_id": dossier.campaign_id,
        "reviewer": reviewer,
    }
    if c.conflict is None:
        events.append(NoConflictDeclared(**where, declared_at=c.now))
    else:
        events.append(
            ReviewerRecused(**where, conflict=c.conflict, details=c.details, recused_at=c.now)
        )
    return events


def review(state: SelectionState, c: SubmitReview) -> list[DomainEvent]:
    if c.actor.role is not Role.reviewer:
        raise Forbidden(f"{c.actor.describe()} may not {REVIEW}: only a committee member may")
    dossier = _reviewers_dossier(state, c.withdrawn, REVIEW)
    reviewer, r = c.actor.subject, state.reviewers
    if reviewer not in r.assigned:
        raise UnknownDossier(UNKNOWN)
    if reviewer in r.recused:
        raise Forbidden(
            f"{reviewer} declared a conflict of interest with this dossier: a recused reviewer "
            "scores nothing"
        )
    if reviewer not in r.cleared:
        raise ReviewerNotCleared(
            "declare your interests first: a reviewer scores a dossier only after declaring no "
            "conflict of interest with the applicant collectivité"
        )
    campaign = _campaign(state, c)
    _open_to_reviews(state, campaign.committee, REVIEW)
    require_opinion(state, "it is the sixth criterion, the reviewers score the dossier after it")
    require_within_request_and_cap(c.proposed_eur, dossier, campaign)
    return [
        ReviewSubmitted(
            dossier_id=dossier.dossier_id,
            reference=dossier.reference,
            campaign_id=dossier.campaign_id,
            reviewer=reviewer,
            scores=c.scores,
            weighted_score=weighted_score(c.scores, campaign.criteria_weights),
            proposed_eur=c.proposed_eur,
            comment=c.comment,
            reviewed_at=c.now,
        )
    ]
