"""The selection of one dossier as one decider: `decide` hands each command to its step's rules
(eligibility, instruction, decision, convention); `evolve` folds the dossier's stream."""

from services.selection import (
    committee,
    convention,
    deadlines,
    decision,
    eligibility,
    instruction,
)
from services.selection.commands import (
    AssignReviewer,
    CheckEligibility,
    Command,
    Decide,
    DeclareInterests,
    GiveOpinion,
    RecheckEligibility,
    RecordAssessment,
    RecordOverdue,
    ReleaseOnWithdrawal,
    RemindOfDeadline,
    Sign,
    SubmitReview,
)
from services.selection.state import SelectionState, evolve
from shared.contracts import DomainEvent
from shared.kernel.decider import Decider


def decide(state: SelectionState, command: Command) -> list[DomainEvent]:
    match command:
        case CheckEligibility():
            return eligibility.check(state, command)
        case RecheckEligibility():
            return eligibility.recheck(state, command)
        case GiveOpinion():
            return instruction.give_opinion(state, command)
        case RecordAssessment():
            return instruction.record_assessment(state, command)
        case AssignReviewer():
            return committee.assign(state, command)
        case DeclareInterests():
            return committee.declare(state, command)
        case SubmitReview():
            return committee.review(state, command)
        case Decide():
            return decision.decide(state, command)
        case Sign():
            return convention.sign(state, command)
        case ReleaseOnWithdrawal():
            return decision.release_on_withdrawal(state, command)
        case RemindOfDeadline():
            return deadlines.remind(state, command)
        case RecordOverdue():
            return deadlines.record_overdue(state, command)


SELECTION: Decider[SelectionState, Command] = Decider(SelectionState(), decide, evolve)

__all__ = ["SELECTION", "SelectionState", "decide", "evolve"]
