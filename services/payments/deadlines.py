"""The final report's deadline: the campaign's `final_report_months` after the project's end, the
end being the commitment (the convention binds) plus the project's duration. Its reminders to
the applicant and its overdue are decided when their instants come, from the dossier's stream
alone: a report submitted first leaves nothing to record."""

from datetime import datetime
from typing import TYPE_CHECKING

from services.payments.commands import RecordReportOverdue, RemindOfFinalReport
from shared.contracts import DomainEvent
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind, PartyToAct
from shared.contracts.payments import FinalReportOverdue, FundsCommitted
from shared.language.campaigns import Campaign, find
from shared.language.deadlines import add_months, days_left, reminder_is_due

if TYPE_CHECKING:
    from services.payments.domain import PaymentsState


def final_report_due_at(
    committed_at: datetime, duration_months: int | None, campaign: Campaign
) -> datetime:
    """A duration unknown (a signature recorded before it was said) counts as the longest the
    call allows: no reminder comes before the report can be due."""
    end = add_months(committed_at, duration_months or campaign.max_duration_months)
    return add_months(end, campaign.deadlines.final_report_months)


def _awaited(state: "PaymentsState", due_at: datetime) -> FundsCommitted | None:
    """The commitment, while its final report of this deadline is still awaited."""
    committed = state.commitment
    if (
        committed is None
        or committed.final_report_due_at != due_at
        or state.report is not None
        or state.settlement is not None
    ):
        return None
    return committed


def remind(state: "PaymentsState", c: RemindOfFinalReport) -> list[DomainEvent]:
    committed = _awaited(state, c.due_at)
    if committed is None:
        return []
    campaign = find(c.campaigns, committed.campaign_id)
    if not reminder_is_due(
        due_at=c.due_at,
        window_days=c.window_days,
        reminder_days=campaign.deadlines.reminder_days,
        now=c.now,
        reminded_at=[r.reminded_at for r in state.reminders if r.due_at == c.due_at],
    ):
        return []
    return [
        DeadlineApproaching(
            dossier_id=committed.dossier_id,
            reference=committed.reference,
            campaign_id=committed.campaign_id,
            deadline=DeadlineKind.final_report,
            due_at=c.due_at,
            days_left=days_left(c.due_at, c.now),
            party=PartyToAct.applicant,
            reminded_at=c.now,
        )
    ]


def record_overdue(state: "PaymentsState", c: RecordReportOverdue) -> list[DomainEvent]:
    committed = _awaited(state, c.due_at)
    if committed is None or c.now < c.due_at or state.report_overdue is not None:
        return []
    return [
        FinalReportOverdue(
            dossier_id=committed.dossier_id,
            reference=committed.reference,
            campaign_id=committed.campaign_id,
            due_at=c.due_at,
            recorded_at=c.now,
        )
    ]
