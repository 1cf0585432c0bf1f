"""What selection knows of one dossier, folded from its stream event by event."""

from dataclasses import dataclass, field, replace

from shared.contracts import DomainEvent
from shared.contracts.committee import (
    NoConflictDeclared,
    ReviewerAssigned,
    ReviewerRecused,
    ReviewSubmitted,
)
from shared.contracts.deadlines import DeadlineApproaching
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionOverdue,
    ConventionSignatureAdded,
    EligibilityChecked,
    GrantReleased,
    Opinion,
    OpinionOverdue,
    Party,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    SelectionDecided,
)


@dataclass(frozen=True)
class Reviewers:
    """The dossier's committee members: who was assigned, who declared no conflict, who stood
    aside, and each one's latest review."""

    assigned: tuple[str, ...] = ()
    cleared: frozenset[str] = frozenset()  # declared no conflict of interest
    recused: frozenset[str] = frozenset()
    reviews: dict[str, ReviewSubmitted] = field(default_factory=dict)

    @property
    def seated(self) -> tuple[str, ...]:
        """The reviewers who still count: assigned and not recused."""
        return tuple(r for r in self.assigned if r not in self.recused)

    @property
    def counted(self) -> dict[str, ReviewSubmitted]:
        """The reviews the consensus settles: those of the reviewers still seated."""
        return {r: review for r, review in self.reviews.items() if r not in self.recused}


def _reviewers(reviewers: Reviewers, event: DomainEvent) -> Reviewers:
    match event:
        case ReviewerAssigned(reviewer=who):
            return replace(reviewers, assigned=(*reviewers.assigned, who))
        case NoConflictDeclared(reviewer=who):
            return replace(reviewers, cleared=reviewers.cleared | {who})
        case ReviewerRecused(reviewer=who):
            return replace(reviewers, recused=reviewers.recused | {who})
        case ReviewSubmitted(reviewer=who):
            return replace(reviewers, reviews={**reviewers.reviews, who: event})
        case _:
            return reviewers


@dataclass(frozen=True)
class SelectionState:
    checked: EligibilityChecked | None = None  # carries what every later step needs to know
    opinion: Opinion | None = None
    assessment: CommitteeAssessmentRecorded | None = None  # the latest: a later one replaces it
    reviewers: Reviewers = Reviewers()
    decision: SelectionDecided | None = None
    signed_by: frozenset[Party] = frozenset()
    released: bool = False  # its grant went back to the envelope (withdrawn after selection)
    # Deadlines (services/selection/deadlines.py): the latest request for the opinion, the
    # reminders sent, and the deadlines recorded as passed.
    opinion_request: PrefectureOpinionRequested | None = None
    reminders: tuple[DeadlineApproaching, ...] = ()
    opinion_overdue: OpinionOverdue | None = None
    convention_overdue: ConventionOverdue | None = None

    @property
    def convention_signed(self) -> bool:
        return self.signed_by == frozenset(Party)


def evolve(state: SelectionState, event: DomainEvent) -> SelectionState:
    match event:
        case EligibilityChecked():
            return replace(state, checked=event)
        case PrefectureOpinionRequested():
            return replace(state, opinion_request=event)
        case PrefectureOpinionGiven(opinion=opinion):
            return replace(state, opinion=opinion)
        case CommitteeAssessmentRecorded():
            return replace(state, assessment=event)
        case SelectionDecided():
            return replace(state, decision=event)
        case ConventionSignatureAdded(party=party):
            return replace(state, signed_by=state.signed_by | {party})
        case GrantReleased():
            return replace(state, released=True)
        case DeadlineApproaching():
            return replace(state, reminders=(*state.reminders, event))
        case OpinionOverdue():
            return replace(state, opinion_overdue=event)
        case ConventionOverdue():
            return replace(state, convention_overdue=event)
        case ReviewerAssigned() | NoConflictDeclared() | ReviewerRecused() | ReviewSubmitted():
            return replace(state, reviewers=_reviewers(state.reviewers, event))
        case _:
            return state
