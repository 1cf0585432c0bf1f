"""Activity reports: what the collectivité did and spent so far, filed during the action; the
plan's instalments due on an activity report follow them. Pure: `decide`'s part."""

from typing import TYPE_CHECKING

from services.payments.commands import SubmitActivityReport
from services.payments.errors import (
    ActivityReportAwaited,
    UnknownProof,
)
from services.payments.guards import applicant_before_settlement
from shared.contracts import DomainEvent
from shared.contracts.payments import ActivityReportSubmitted, FundsCommitted, PlannedInstalment

if TYPE_CHECKING:  # the state is folded in domain.py, which hands each command to its part
    from services.payments.domain import PaymentsState

ACTIVITY_REPORT = "activity_report"  # the `due_on` of an instalment paid on an activity report


def submit(state: "PaymentsState", c: SubmitActivityReport) -> list[DomainEvent]:
    committed = applicant_before_settlement(
        state, c.actor, c.dossier_id, "file an activity report", "activity report is filed"
    )
    unknown = [str(a) for a in c.attachments if a not in state.proofs]
    if unknown:
        raise UnknownProof(
            f"an activity report points to proofs of spending already added to "
            f"{committed.reference} (POST /dossiers/{c.dossier_id}/final-report/proofs): "
            f"none is {', '.join(unknown)}"
        )
    return [
        ActivityReportSubmitted(
            dossier_id=c.dossier_id,
            reference=committed.reference,
            number=state.activity_reports + 1,
            summary=c.summary,
            spent_to_date_eur=c.spent_to_date_eur,
            attachments=list(dict.fromkeys(c.attachments)),
            instalment_asked=c.instalment_asked,
            submitted_at=c.now,
        )
    ]


def reports_needed(plan: list[PlannedInstalment], entry: PlannedInstalment) -> int:
    """How many activity reports an entry of the plan awaits: as many as the plan's entries due
    on an activity report up to and including it (none for an entry due on something else)."""
    if entry.due_on != ACTIVITY_REPORT:
        return 0
    return sum(1 for e in plan if e.due_on == ACTIVITY_REPORT and e.number <= entry.number)


def require_reports(
    state: "PaymentsState", committed: FundsCommitted, entry: PlannedInstalment
) -> None:
    needed = reports_needed(committed.plan, entry)
    if state.activity_reports < needed:
        raise ActivityReportAwaited(
            f"instalment {entry.number} of {committed.reference} ({entry.label}) is paid on "
            f"activity report no. {needed}, which the collectivité has not filed yet "
            f"({state.activity_reports} filed): POST /dossiers/{committed.dossier_id}"
            "/activity-reports"
        )
