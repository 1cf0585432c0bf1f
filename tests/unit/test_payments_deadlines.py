"""The final report's deadline: due the campaign's months after the project's end, the applicant
reminded before it, the report recorded overdue once; nothing once the report came."""

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

from services.payments.commands import (
    CommitFunds,
    RecordReportOverdue,
    RemindOfFinalReport,
    SubmitFinalReport,
)
from services.payments.domain import PAYMENTS, PaymentsState, decide
from shared.contracts import DomainEvent, read_event
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind, PartyToAct
from shared.contracts.payments import FinalReportOverdue, FundsCommitted, FundsCommittedV1
from shared.contracts.selection import ConventionSigned
from shared.language.actors import Actor, Role
from shared.language.campaigns import load_campaigns
from shared.language.deadlines import add_months, days_left, reminder_is_due, reminders

PARIS = ZoneInfo("Europe/Paris")
SIGNED = datetime(2024, 9, 16, 11, 0, tzinfo=PARIS)
CAMPAIGNS = load_campaigns()
CAMPAIGN = CAMPAIGNS["mildeca-2024"]  # final report 3 months after the end, by default
DAY = timedelta(days=1)
SIREN = "215905126"
APPLICANT = Actor(Role.applicant, "maire@roubaix.example.fr", siren=SIREN)


def commitment(duration_months: int | None = 24) -> FundsCommitted:
    signed = ConventionSigned(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        siren=SIREN,
        departement="59",
        granted_eur=Decimal("100000.00"),
        signed_at=SIGNED,
        duration_months=duration_months,
    )
    [committed] = decide(PaymentsState(), CommitFunds(signed, CAMPAIGN, SIGNED))
    assert isinstance(committed, FundsCommitted)
    return committed


def state(*events: DomainEvent) -> PaymentsState:
    return PAYMENTS.fold(events)


def due(committed: FundsCommitted) -> datetime:
    assert committed.final_report_due_at is not None
    return committed.final_report_due_at


def test_the_final_report_is_due_the_campaigns_months_after_the_projects_end():
    # a project of 24 months from its commitment on 16 September 2024 ends on 16 September 2026;
    # its report is due 3 months later
    assert due(commitment(24)) == datetime(2026, 12, 16, 11, 0, tzinfo=PARIS)


def test_a_duration_unknown_counts_as_the_longest_the_call_allows():
    assert due(commitment(None)) == datetime(2027, 12, 16, 11, 0, tzinfo=PARIS)  # 36 months


def test_a_commitment_of_version_1_reads_with_no_report_deadline_and_reminds_of_nothing():
    v2 = commitment()
    written = FundsCommittedV1(**v2.model_dump(exclude={"final_report_due_at"}))
    committed = read_event(written.cloud_type(), written.model_dump(mode="json"))
    assert isinstance(committed, FundsCommitted) and committed.final_report_due_at is None
    late = RecordReportOverdue(due(v2), due(v2) + DAY)
    assert decide(state(committed), late) == []


def test_the_applicant_is_reminded_before_the_final_report_is_due():
    committed = commitment()
    now = due(committed) - 7 * DAY
    [reminder] = decide(state(committed), RemindOfFinalReport(due(committed), 7, CAMPAIGNS, now))
    assert reminder == DeadlineApproaching(
        dossier_id=committed.dossier_id,
        reference=committed.reference,
        campaign_id="mildeca-2024",
        deadline=DeadlineKind.final_report,
        due_at=due(committed),
        days_left=7,
        party=PartyToAct.applicant,
        reminded_at=now,
    )
    again = RemindOfFinalReport(due(committed), 7, CAMPAIGNS, now + DAY)
    assert decide(state(committed, reminder), again) == []


def test_no_reminder_nor_overdue_once_the_final_report_is_submitted():
    committed = commitment()
    [report] = decide(
        state(committed),
        SubmitFinalReport(APPLICANT, committed.dossier_id, Decimal("90000.00"), "Bilan.", SIGNED),
    )
    s = state(committed, report)
    assert decide(s, RemindOfFinalReport(due(committed), 1, CAMPAIGNS, due(committed) - DAY)) == []
    assert decide(s, RecordReportOverdue(due(committed), due(committed))) == []


def test_the_final_report_not_submitted_by_its_deadline_is_recorded_overdue_once():
    committed = commitment()
    [late] = decide(state(committed), RecordReportOverdue(due(committed), due(committed)))
    assert late == FinalReportOverdue(
        dossier_id=committed.dossier_id,
        reference=committed.reference,
        campaign_id="mildeca-2024",
        due_at=due(committed),
        recorded_at=due(committed),
    )
    assert decide(state(committed, late), RecordReportOverdue(due(committed), due(committed))) == []


def test_no_overdue_before_the_deadline():
    committed = commitment()
    early = RecordReportOverdue(due(committed), due(committed) - timedelta(seconds=1))
    assert decide(state(committed), early) == []


# --- the calendar's arithmetic (shared/language/deadlines.py) ---------------------------------


def test_a_month_later_is_the_same_day_or_the_last_of_a_shorter_month_on_paris_time():
    assert add_months(datetime(2024, 1, 31, 10, tzinfo=PARIS), 1) == datetime(
        2024, 2, 29, 10, tzinfo=PARIS
    )
    # across the change to summer time, the same hour in Paris
    assert add_months(datetime(2025, 3, 1, 10, tzinfo=PARIS), 1).hour == 10
    assert add_months(datetime(2025, 11, 15, tzinfo=PARIS), 14) == datetime(
        2027, 1, 15, tzinfo=PARIS
    )


def test_a_started_day_counts_as_a_day_left():
    deadline = datetime(2024, 5, 17, 9, tzinfo=PARIS)
    assert days_left(deadline, deadline - 7 * DAY + timedelta(seconds=1)) == 7
    assert days_left(deadline, deadline - timedelta(hours=1)) == 1
    assert days_left(deadline, deadline + DAY) == 0


def test_the_reminders_of_a_deadline_come_the_earliest_first():
    deadline = datetime(2024, 5, 17, 9, tzinfo=PARIS)
    assert reminders(deadline, (1, 7, 7, 0)) == [(7, deadline - 7 * DAY), (1, deadline - DAY)]


def test_a_reminder_is_due_in_its_window_once():
    deadline = datetime(2024, 5, 17, 9, tzinfo=PARIS)
    window = {"due_at": deadline, "window_days": 7, "reminder_days": (7, 1)}
    assert reminder_is_due(**window, now=deadline - 6 * DAY, reminded_at=[])
    assert not reminder_is_due(**window, now=deadline - 6 * DAY, reminded_at=[deadline - 7 * DAY])
    # a reminder sent before this window (a former one) does not count
    assert reminder_is_due(**window, now=deadline - 6 * DAY, reminded_at=[deadline - 8 * DAY])
