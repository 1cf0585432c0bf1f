"""Events of the committee (published by selection): each dossier's reviewers, their declarations
of interests and individual scores (on the dossier's stream), and the committee's sessions with
the President's decision of a session's dossiers at once (on the session's own stream)."""

from enum import Enum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.selection import Outcome, Scores
from shared.contracts.values import Euros, Minutes, Motivation, Person, Points, ShortText


class ReviewerAssigned(DomainEvent):
    """A committee member is to review the dossier: named by the moderator, or taking it
    themselves when the campaign lets its members volunteer."""

    name = "ReviewerAssigned"

    reference: str
    campaign_id: str
    reviewer: Person
    assigned_by: str = Field(description="who named the reviewer: role and subject")
    assigned_at: AwareDatetime


class NoConflictDeclared(DomainEvent):
    """The reviewer declares having no conflict of interest with the applicant collectivité:
    only then may they read the dossier and score it."""

    name = "NoConflictDeclared"

    reference: str
    campaign_id: str
    reviewer: Person
    declared_at: AwareDatetime


class Conflict(str, Enum):
    """Why a reviewer stands aside (the ties the ethics rules of public bodies name)."""

    elected_office = "elected_office"  # an elected office in the applicant collectivité
    employment = "employment"  # a job, a contract or a mission for it
    family = "family"  # a family tie with one of its elected officials or agents
    other = "other"  # any other interest, said in the details


class ReviewerRecused(DomainEvent):
    """The reviewer declared a conflict of interest: recused from this dossier for good, they
    read none of its assessments and score nothing; another reviewer is needed."""

    name = "ReviewerRecused"

    reference: str
    campaign_id: str
    reviewer: Person
    conflict: Conflict
    details: Motivation
    recused_at: AwareDatetime


class ReviewSubmitted(DomainEvent):
    """One reviewer's scores of the six criteria, with a comment; a later one by the same
    reviewer replaces it until the consensus is recorded. Every one stays in the history."""

    name = "ReviewSubmitted"

    reference: str
    campaign_id: str
    reviewer: Person
    scores: Scores
    weighted_score: Points = Field(description="with the campaign's weights, 0.00 to 5.00")
    proposed_eur: Euros
    comment: Motivation
    reviewed_at: AwareDatetime


class SessionDossier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dossier_id: UUID
    reference: str
    weighted_score: Points = Field(description="the committee's consensus")
    proposed_eur: Euros


class CommitteeSessionHeld(DomainEvent):
    """A session of the committee: the dossiers it examined, ranked by their consensus, the
    members present, its minutes. Keyed on the bus by the session's id."""

    name = "CommitteeSessionHeld"

    dossier_id: UUID = Field(description="the session's id: its key on the topic")
    session_id: UUID
    campaign_id: str
    title: ShortText
    held_at: AwareDatetime
    moderator: str = Field(description="the instructor who recorded it: role and subject")
    members_present: list[Person] = Field(min_length=1, max_length=100)
    dossiers: list[SessionDossier] = Field(
        min_length=1, description="ranked: best consensus first, then by reference"
    )
    minutes: Minutes
    recorded_at: AwareDatetime


class SessionDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dossier_id: UUID
    reference: str
    outcome: Outcome
    granted_eur: Euros


class CommitteeSessionDecided(DomainEvent):
    """The President decided the session's dossiers at once (each its own SelectionDecided,
    recorded in the same transaction), within the campaign's envelope."""

    name = "CommitteeSessionDecided"

    dossier_id: UUID = Field(description="the session's id: its key on the topic")
    session_id: UUID
    campaign_id: str
    decisions: list[SessionDecision] = Field(description="in the session's ranking")
    granted_total_eur: Euros
    envelope_eur: Euros
    granted_before_eur: Euros = Field(description="what the campaign had granted before")
    decided_at: AwareDatetime


def session_stream(session_id: UUID) -> str:
    return f"committee-session:{session_id}"


EVENTS = (
    ReviewerAssigned,
    NoConflictDeclared,
    ReviewerRecused,
    ReviewSubmitted,
    CommitteeSessionHeld,
    CommitteeSessionDecided,
)
UPCASTERS: tuple[Upcaster, ...] = ()
