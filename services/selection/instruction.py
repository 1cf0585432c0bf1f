"""Instruction of a dossier: the préfecture's opinion, then the committee's assessment."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from services.selection.commands import GiveOpinion, RecordAssessment
from services.selection.errors import OpinionAlreadyGiven
from services.selection.guards import (
    require_opinion,
    require_reviews,
    require_within_request_and_cap,
    under_instruction,
)
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.selection import CommitteeAssessmentRecorded, PrefectureOpinionGiven, Scores
from shared.contracts.values import CENT
from shared.language.actors import Role
from shared.language.campaigns import CRITERIA, find

GIVE_OPINION = "give the préfecture's opinion on this dossier"
ASSESS = "record the committee's assessment of this dossier"


def give_opinion(state: SelectionState, c: GiveOpinion) -> list[DomainEvent]:
    dossier = under_instruction(state, c.actor, Role.prefecture, c.withdrawn, GIVE_OPINION)
    if state.opinion is not None:
        raise OpinionAlreadyGiven(
            f"the préfecture already gave its opinion "
            f"({state.opinion.value}) on this dossier: it is given once"
        )
    return [
        PrefectureOpinionGiven(
            dossier_id=dossier.dossier_id,
            reference=dossier.reference,
            campaign_id=dossier.campaign_id,
            departement=dossier.departement,
            opinion=c.opinion,
            motivation=c.motivation,
            given_at=c.now,
        )
    ]


def weighted_score(scores: Scores, weights: Mapping[str, Decimal]) -> Decimal:
    """Σ weight·score / Σ weight over the six criteria, to the hundredth (half up)."""
    given = scores.model_dump()
    total = sum((weights[c] * given[c] for c in CRITERIA), Decimal(0))
    return (total / sum((weights[c] for c in CRITERIA), Decimal(0))).quantize(CENT, ROUND_HALF_UP)


def record_assessment(state: SelectionState, c: RecordAssessment) -> list[DomainEvent]:
    """The committee's assessment: when its campaign seats reviewers, the moderator's consensus
    of their reviews, recorded once they are all in. It may be revised until the decision: the
    latest one counts."""
    dossier = under_instruction(state, c.actor, Role.instructor, c.withdrawn, ASSESS)
    require_opinion(state, "it is the sixth criterion, the committee assesses the dossier after it")
    campaign = find(c.campaigns, dossier.campaign_id)
    require_reviews(state, campaign.committee)
    require_within_request_and_cap(c.proposed_eur, dossier, campaign)
    return [
        CommitteeAssessmentRecorded(
            dossier_id=dossier.dossier_id,
            reference=dossier.reference,
            campaign_id=dossier.campaign_id,
            scores=c.scores,
            weighted_score=weighted_score(c.scores, campaign.criteria_weights),
            proposed_eur=c.proposed_eur,
            comment=c.comment,
            assessed_at=c.now,
        )
    ]
