"""Events of the selection service: eligibility, préfecture opinion, committee, decision,
convention."""

from enum import Enum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.applications import Objective
from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.values import DepartementCode, Euros, Motivation, Points, Siren


class FailedRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    reason: str


class EligibilityChecked(DomainEvent):
    """MILDECA's automatic check (rules E1–E7). Carries what the later steps need to know."""

    name = "EligibilityChecked"

    reference: str
    campaign_id: str
    eligible: bool
    failed_rules: list[FailedRule]
    checked_at: AwareDatetime
    siren: Siren
    applicant_name: str
    departement: DepartementCode
    requested_eur: Euros
    objectives: list[Objective]


class PrefectureOpinionRequested(DomainEvent):
    """An eligible dossier goes to the préfecture of its département for its opinion."""

    name = "PrefectureOpinionRequested"

    reference: str
    campaign_id: str
    departement: DepartementCode
    requested_at: AwareDatetime


class Opinion(str, Enum):
    favorable = "favorable"
    reserved = "reserved"
    unfavorable = "unfavorable"


class PrefectureOpinionGiven(DomainEvent):
    name = "PrefectureOpinionGiven"

    reference: str
    campaign_id: str
    departement: DepartementCode
    opinion: Opinion
    motivation: Motivation
    given_at: AwareDatetime


Score = Annotated[int, Field(ge=0, le=5, description="0 (absent) to 5 (excellent)")]


class Scores(BaseModel):
    """The committee's six criteria (DOMAIN.md), each scored 0 to 5."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    adequacy: Score
    innovation: Score
    team_competence: Score
    methodology: Score
    partnership: Score
    prefecture_opinion: Score


class CommitteeAssessmentRecorded(DomainEvent):
    """The committee's assessment; a later one for the same dossier replaces it."""

    name = "CommitteeAssessmentRecorded"

    reference: str
    campaign_id: str
    scores: Scores
    weighted_score: Points = Field(
        description="weighted mean of the scores with the campaign's weights, 0.00 to 5.00"
    )
    proposed_eur: Euros
    comment: Motivation
    assessed_at: AwareDatetime


class Outcome(str, Enum):
    selected = "selected"
    rejected = "rejected"


class SelectionDecided(DomainEvent):
    """The President of MILDECA's decision. `granted_eur` is 0.00 for a rejection."""

    name = "SelectionDecided"

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    outcome: Outcome
    requested_eur: Euros
    granted_eur: Euros
    motivation: Motivation
    decided_at: AwareDatetime


class GrantReleased(DomainEvent):
    """A selected dossier its applicant withdrew before the convention was signed (the
    withdrawal and the decision crossed on the bus): its grant goes back to the envelope."""

    name = "GrantReleased"

    reference: str
    campaign_id: str
    released_eur: Euros
    released_at: AwareDatetime


class Party(str, Enum):
    """The three parties of the tripartite convention."""

    collectivite = "collectivite"
    prefecture = "prefecture"
    mildeca = "mildeca"


class ConventionSignatureAdded(DomainEvent):
    name = "ConventionSignatureAdded"

    reference: str
    campaign_id: str
    party: Party
    signatory: str = Field(description="who signed for the party (the token's subject)")
    signed_at: AwareDatetime


class ConventionSigned(DomainEvent):
    """The third signature is in: the convention binds, the funds can be committed."""

    name = "ConventionSigned"

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    granted_eur: Euros
    signed_at: AwareDatetime


EVENTS = (
    EligibilityChecked,
    PrefectureOpinionRequested,
    PrefectureOpinionGiven,
    CommitteeAssessmentRecorded,
    SelectionDecided,
    GrantReleased,
    ConventionSignatureAdded,
    ConventionSigned,
)
UPCASTERS: tuple[Upcaster, ...] = ()
