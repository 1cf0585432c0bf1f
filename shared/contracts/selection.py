"""Events of the selection service: eligibility, préfecture opinion, committee, decision,
convention."""

from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from shared.contracts.applications import Objective
from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.values import (
    DepartementCode,
    Euros,
    Motivation,
    Points,
    Siren,
    json_number,
)


class FailedRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    reason: str


class EligibilityCheckedV1(DomainEvent):
    """Version 1, still in the log: it said neither the project's duration nor whether the
    check followed an amendment."""

    name = "EligibilityChecked"
    version = 1

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


def _checked_on_filing(v1: dict[str, Any]) -> dict[str, Any]:
    # Version 1 was written on filing only, before durations were recorded.
    return {**v1, "duration_months": None, "after_amendment": None}


class EligibilityChecked(DomainEvent):
    """MILDECA's automatic check (rules E1–E7), on filing and again after each amendment.
    Carries what the later steps need to know."""

    name = "EligibilityChecked"
    version = 2

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
    duration_months: int | None = Field(
        default=None, description="the project's duration as filed (absent from older events)"
    )
    after_amendment: UUID | None = Field(
        default=None, description="checked again on the dossier amended on this correction request"
    )


class PrefectureOpinionRequestedV1(DomainEvent):
    """Version 1, still in the log: it did not say when the opinion is due."""

    name = "PrefectureOpinionRequested"
    version = 1

    reference: str
    campaign_id: str
    departement: DepartementCode
    requested_at: AwareDatetime


class PrefectureOpinionRequested(DomainEvent):
    """An eligible dossier goes to the préfecture of its département for its opinion, due by
    `due_at`."""

    name = "PrefectureOpinionRequested"
    version = 2

    reference: str
    campaign_id: str
    departement: DepartementCode
    requested_at: AwareDatetime
    due_at: AwareDatetime | None = Field(
        default=None,
        description="the opinion is due by then: the campaign's deadlines.opinion_days after "
        "the request; null when read from version 1 (then requested_at + the campaign's days)",
    )


def _opinion_due_unsaid(v1: dict[str, Any]) -> dict[str, Any]:
    # Version 1 did not record the deadline; the campaign's days after the request say it.
    return {**v1, "due_at": None}


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


Score = Annotated[
    int, Field(ge=0, le=5, description="0 (absent) to 5 (excellent)"), BeforeValidator(json_number)
]


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


class SelectionDecidedV1(DomainEvent):
    """Version 1, still in the log: it did not say which version of the dossier was decided on."""

    name = "SelectionDecided"
    version = 1

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    outcome: Outcome
    requested_eur: Euros
    granted_eur: Euros
    motivation: Motivation
    decided_at: AwareDatetime


class DecidedOn(BaseModel):
    """The dossier as the President decided on it: as filed, or as the amendment named left it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amendment: UUID | None = Field(
        description="the amendment (its request_id) of the last eligibility check before the "
        "decision; null: the dossier as filed"
    )


def _decided_on_unsaid(v1: dict[str, Any]) -> dict[str, Any]:
    return {**v1, "decided_on": None}


class SelectionDecided(SelectionDecidedV1):
    """The President of MILDECA's decision. `granted_eur` is 0.00 for a rejection. Version 2:
    the dossier's version decided on (`decided_on`), so that applications sets aside an
    amendment that crossed the decision on the bus."""

    version = 2

    decided_on: DecidedOn | None = Field(
        default=None, description="the dossier's version decided on; null in older events"
    )


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


class ConventionSignedV1(DomainEvent):
    """Version 1, still in the log: it did not say how long the project lasts."""

    name = "ConventionSigned"
    version = 1

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    granted_eur: Euros
    signed_at: AwareDatetime


class ConventionSigned(DomainEvent):
    """The third signature is in: the convention binds, the funds can be committed."""

    name = "ConventionSigned"
    version = 2

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    granted_eur: Euros
    signed_at: AwareDatetime
    duration_months: int | None = Field(
        default=None,
        description="the project's duration: its end, and so its final report's deadline, "
        "follows from it; null when read from version 1, or when the check did not say it",
    )


def _duration_unsaid(v1: dict[str, Any]) -> dict[str, Any]:
    return {**v1, "duration_months": None}


class OpinionOverdue(DomainEvent):
    """The préfecture did not give its opinion by its deadline: shown to the instructors and in
    the ranking; the opinion may still come."""

    name = "OpinionOverdue"

    reference: str
    campaign_id: str
    departement: DepartementCode
    due_at: AwareDatetime
    recorded_at: AwareDatetime


class ConventionOverdue(DomainEvent):
    """The campaign's date for signing conventions passed and this one is not signed by its
    three parties: no signature is accepted any more."""

    name = "ConventionOverdue"

    reference: str
    campaign_id: str
    unsigned: list[Party] = Field(description="the parties that had not signed")
    due_at: AwareDatetime
    recorded_at: AwareDatetime


EVENTS = (
    EligibilityCheckedV1,
    EligibilityChecked,
    PrefectureOpinionRequestedV1,
    PrefectureOpinionRequested,
    PrefectureOpinionGiven,
    CommitteeAssessmentRecorded,
    SelectionDecidedV1,
    SelectionDecided,
    GrantReleased,
    ConventionSignatureAdded,
    ConventionSignedV1,
    ConventionSigned,
    OpinionOverdue,
    ConventionOverdue,
)
UPCASTERS: tuple[Upcaster, ...] = (
    Upcaster(EligibilityCheckedV1, EligibilityChecked, _checked_on_filing),
    Upcaster(PrefectureOpinionRequestedV1, PrefectureOpinionRequested, _opinion_due_unsaid),
    Upcaster(ConventionSignedV1, ConventionSigned, _duration_unsaid),
    Upcaster(SelectionDecidedV1, SelectionDecided, _decided_on_unsaid),
)
