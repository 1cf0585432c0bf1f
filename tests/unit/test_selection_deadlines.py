"""Selection's deadlines, decided when their instant comes: the préfecture reminded before its
opinion is due and the opinion recorded overdue once, the parties yet to sign reminded before the
convention's date and the convention recorded overdue once; nothing once the act came first."""

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

from services.selection.commands import RecordOverdue, RemindOfDeadline
from services.selection.deadlines import opinion_due_at
from services.selection.domain import SELECTION, SelectionState, decide
from shared.contracts import DomainEvent, read_event
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind, PartyToAct
from shared.contracts.selection import (
    ConventionOverdue,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    Opinion,
    OpinionOverdue,
    Outcome,
    Party,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    PrefectureOpinionRequestedV1,
    SelectionDecided,
)
from shared.language.campaigns import load_campaigns

PARIS = ZoneInfo("Europe/Paris")
ASKED = datetime(2024, 5, 2, 9, 0, tzinfo=PARIS)
DUE = ASKED + timedelta(days=15)  # the campaign's opinion_days
DAY = timedelta(days=1)
CAMPAIGNS = load_campaigns()
CAMPAIGN = CAMPAIGNS["mildeca-2024"]
CONVENTION_DUE = CAMPAIGN.convention_deadline
OPINION, CONVENTION = DeadlineKind.prefecture_opinion, DeadlineKind.convention
DOSSIER = uuid4()
COMMON = {"dossier_id": DOSSIER, "reference": "AAP-2024-00042", "campaign_id": "mildeca-2024"}


def asked() -> list[DomainEvent]:
    return [
        EligibilityChecked(
            **COMMON,
            eligible=True,
            failed_rules=[],
            checked_at=ASKED,
            siren="215905126",
            applicant_name="Commune de Roubaix",
            departement="59",
            requested_eur=Decimal("160000.00"),
            objectives=["prevent_entry", "reclaim_public_space"],
            duration_months=36,
        ),
        PrefectureOpinionRequested(**COMMON, departement="59", requested_at=ASKED, due_at=DUE),
    ]


def opinion_given() -> PrefectureOpinionGiven:
    return PrefectureOpinionGiven(
        **COMMON,
        departement="59",
        opinion=Opinion.favorable,
        motivation="Plan global porté par le maire.",
        given_at=DUE - 3 * DAY,
    )


def selected() -> list[DomainEvent]:
    return [
        *asked(),
        opinion_given(),
        SelectionDecided(
            **COMMON,
            siren="215905126",
            departement="59",
            outcome=Outcome.selected,
            requested_eur=Decimal("160000.00"),
            granted_eur=Decimal("120000.00"),
            motivation="Retenu.",
            decided_at=datetime(2024, 6, 20, tzinfo=PARIS),
        ),
    ]


def signature(party: Party) -> ConventionSignatureAdded:
    return ConventionSignatureAdded(
        **COMMON, party=party, signatory=f"{party.value}@example.fr", signed_at=ASKED
    )


def state(*events: DomainEvent) -> SelectionState:
    return SELECTION.fold(events)


def remind(
    s: SelectionState,
    now: datetime,
    window: int = 7,
    deadline: DeadlineKind = OPINION,
    due: datetime = DUE,
    withdrawn: bool = False,
) -> list[DomainEvent]:
    return decide(s, RemindOfDeadline(deadline, due, window, CAMPAIGNS, withdrawn, now))


def overdue(
    s: SelectionState,
    now: datetime,
    deadline: DeadlineKind = OPINION,
    due: datetime = DUE,
    withdrawn: bool = False,
) -> list[DomainEvent]:
    return decide(s, RecordOverdue(deadline, due, CAMPAIGNS, withdrawn, now))


# --- the préfecture's opinion ---------------------------------------------------------------


def test_the_prefecture_is_reminded_seven_days_before_its_opinion_is_due():
    # given a dossier whose opinion was asked, and seven days left
    now = DUE - 7 * DAY + timedelta(seconds=1)
    # when the D−7 reminder's instant comes
    [reminder] = remind(state(*asked()), now)
    # then the préfecture is reminded, the deadline and the days left said
    assert reminder == DeadlineApproaching(
        **COMMON,
        deadline=OPINION,
        due_at=DUE,
        days_left=7,
        party=PartyToAct.prefecture,
        reminded_at=now,
    )


def test_each_reminder_is_sent_once():
    now = DUE - 7 * DAY
    [reminder] = remind(state(*asked()), now)
    assert remind(state(*asked(), reminder), now + timedelta(minutes=1)) == []
    # the next window's reminder still comes
    [closer] = remind(state(*asked(), reminder), DUE - DAY, window=1)
    assert closer.days_left == 1


def test_no_reminder_once_the_opinion_is_given():
    assert remind(state(*asked(), opinion_given()), DUE - DAY, window=1) == []


def test_a_reminder_run_late_yields_to_the_closer_one():
    # the service was down from D−8 to D−1: the D−7 job comes at D−1, after the D−1 instant
    assert remind(state(*asked()), DUE - DAY + timedelta(hours=1), window=7) == []
    [reminder] = remind(state(*asked()), DUE - DAY + timedelta(hours=1), window=1)
    assert reminder.days_left == 1


def test_no_reminder_before_its_instant_nor_once_the_deadline_passed():
    assert remind(state(*asked()), DUE - 8 * DAY) == []
    assert remind(state(*asked()), DUE, window=1) == []


def test_the_opinion_not_given_by_its_deadline_is_recorded_overdue_once():
    # given a dossier whose opinion was asked and never given
    # when its deadline comes
    [late] = overdue(state(*asked()), DUE)
    # then it is recorded overdue, once
    assert late == OpinionOverdue(**COMMON, departement="59", due_at=DUE, recorded_at=DUE)
    assert overdue(state(*asked(), late), DUE + DAY) == []


def test_no_overdue_when_the_opinion_came_first():
    assert overdue(state(*asked(), opinion_given()), DUE) == []


def test_no_overdue_before_its_deadline():
    assert overdue(state(*asked()), DUE - timedelta(seconds=1)) == []


def test_nothing_is_recorded_for_a_withdrawn_dossier():
    assert remind(state(*asked()), DUE - 7 * DAY, withdrawn=True) == []
    assert overdue(state(*asked()), DUE, withdrawn=True) == []


def test_a_job_planned_for_another_deadline_than_the_dossiers_records_nothing():
    assert remind(state(*asked()), DUE - 7 * DAY, due=DUE + DAY) == []
    assert overdue(state(*asked()), DUE + DAY, due=DUE + DAY) == []


def test_a_request_of_version_1_is_due_the_campaigns_days_after_it():
    # given a request as version 1 wrote it, without its deadline
    written = PrefectureOpinionRequestedV1(**COMMON, departement="59", requested_at=ASKED)
    # when it is read (upcast to version 2)
    request = read_event(written.cloud_type(), written.model_dump(mode="json"))
    # then its deadline is unsaid, and the campaign's days after the request
    assert isinstance(request, PrefectureOpinionRequested) and request.due_at is None
    assert opinion_due_at(request, CAMPAIGN) == ASKED + timedelta(days=15)


# --- the convention -------------------------------------------------------------------------


def test_each_party_yet_to_sign_is_reminded_before_the_conventions_date():
    # given a selected dossier signed by the collectivité only
    s = state(*selected(), signature(Party.collectivite))
    # when the D−7 reminder of the campaign's date comes
    now = CONVENTION_DUE - 7 * DAY
    reminders = remind(s, now, deadline=CONVENTION, due=CONVENTION_DUE)
    # then the préfecture and MILDECA are reminded, not the collectivité
    assert [(r.party, r.days_left, r.deadline) for r in reminders] == [
        (PartyToAct.prefecture, 7, CONVENTION),
        (PartyToAct.mildeca, 7, CONVENTION),
    ]
    # and once each
    again = state(*selected(), signature(Party.collectivite), *reminders)
    assert remind(again, now, deadline=CONVENTION, due=CONVENTION_DUE) == []


def test_the_convention_not_signed_by_its_date_is_recorded_overdue_with_who_had_not_signed():
    s = state(*selected(), signature(Party.prefecture))
    [late] = overdue(s, CONVENTION_DUE, deadline=CONVENTION, due=CONVENTION_DUE)
    assert late == ConventionOverdue(
        **COMMON,
        unsigned=[Party.collectivite, Party.mildeca],
        due_at=CONVENTION_DUE,
        recorded_at=CONVENTION_DUE,
    )
    assert (
        overdue(state(*selected(), late), CONVENTION_DUE, deadline=CONVENTION, due=CONVENTION_DUE)
        == []
    )


def test_no_convention_reminder_nor_overdue_once_the_three_parties_signed():
    signed = [
        *(signature(p) for p in Party),
        ConventionSigned(
            **COMMON,
            siren="215905126",
            departement="59",
            granted_eur=Decimal("120000.00"),
            signed_at=ASKED,
        ),
    ]
    s = state(*selected(), *signed)
    assert remind(s, CONVENTION_DUE - DAY, window=1, deadline=CONVENTION, due=CONVENTION_DUE) == []
    assert overdue(s, CONVENTION_DUE, deadline=CONVENTION, due=CONVENTION_DUE) == []


def test_a_rejected_dossier_has_no_convention_to_sign():
    rejected = [
        *selected()[:-1],
        selected()[-1].model_copy(update={"outcome": Outcome.rejected}),
    ]
    assert overdue(state(*rejected), CONVENTION_DUE, deadline=CONVENTION, due=CONVENTION_DUE) == []
