"""What selection knows of one dossier, folded from its stream event by event."""

from dataclasses import dataclass, replace

from shared.contracts import DomainEvent
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionSignatureAdded,
    EligibilityChecked,
    GrantReleased,
    Opinion,
    Party,
    PrefectureOpinionGiven,
    SelectionDecided,
)


@dataclass(frozen=True)
class SelectionState:
    checked: EligibilityChecked | None = None  # carries what every later step needs to know
    opinion: Opinion | None = None
    assessment: CommitteeAssessmentRecorded | None = None  # the latest: a later one replaces it
    decision: SelectionDecided | None = None
    signed_by: frozenset[Party] = frozenset()
    released: bool = False  # its grant went back to the envelope (withdrawn after selection)

    @property
    def convention_signed(self) -> bool:
        return self.signed_by == frozenset(Party)


def evolve(state: SelectionState, event: DomainEvent) -> SelectionState:
    match event:
        case EligibilityChecked():
            return replace(state, checked=event)
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
        case _:
            return state
