"""Correction requests: MILDECA names the fields and the deadline, the applicant amends those
fields only, and a dossier whose deadline passed unanswered may be closed as incomplete."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.applications.commands import (
    Amend,
    CloseIncomplete,
    Decision,
    HearDecision,
    MarkCorrectionOverdue,
    RemindOfCorrection,
    RequestCorrection,
)
from services.applications.domain import DossierState, decide, evolve
from services.applications.errors import (
    AlreadyDecided,
    CorrectionNotOverdue,
    CorrectionPending,
    NoCorrectionAsked,
)
from shared.contracts import DomainEvent, read_event
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    CorrectionOverdue,
    CorrectionRequested,
    Dossier,
    DossierClosedIncomplete,
)
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind, PartyToAct
from shared.contracts.selection import Outcome, SelectionDecided, SelectionDecidedV1
from shared.language.actors import Actor, Role
from shared.language.campaigns import load_campaigns
from shared.language.errors import Forbidden, Invalid
from tests.factories import eligible_dossier

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
DUE = NOW + timedelta(days=15)
DOSSIER_ID = uuid4()
CAMPAIGNS = load_campaigns()
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.gouv.fr")


@pytest.fixture
def filed() -> Dossier:
    return Dossier.model_validate(eligible_dossier())


@pytest.fixture
def state(filed: Dossier) -> DossierState:
    submitted = ApplicationSubmitted(
        dossier_id=DOSSIER_ID,
        reference="AAP-DEMO-00008",
        campaign_id="demo",
        submitted_at=NOW,
        dossier=filed,
    )
    return evolve(DossierState(), submitted)


@pytest.fixture
def applicant(filed: Dossier) -> Actor:
    return Actor(Role.applicant, "maire@example.fr", siren=filed.applicant.siren)


def ask(state: DossierState, *fields: str, decided: Decision | None = None) -> DossierState:
    command = RequestCorrection(
        INSTRUCTOR, DOSSIER_ID, uuid4(), list(fields), "Le budget ne distingue pas les années.",
        DUE, NOW, decided, CAMPAIGNS,
    )  # fmt: skip
    [event] = decide(state, command)
    assert isinstance(event, CorrectionRequested)
    return evolve(state, event)


def test_an_instructor_asks_for_a_correction_of_named_fields_by_a_deadline(state):
    asked = ask(state, "budget", "requested_eur")
    assert asked.correction is not None
    assert asked.correction.fields == ("budget", "requested_eur")
    assert asked.correction.due_at == DUE


def test_only_mildeca_asks_for_a_correction(state, applicant):
    with pytest.raises(Forbidden):
        decide(
            state,
            RequestCorrection(
                applicant, DOSSIER_ID, uuid4(), ["budget"], "x", DUE, NOW, None, CAMPAIGNS
            ),
        )


def test_a_correction_names_parts_an_applicant_writes_not_who_it_is(state):
    with pytest.raises(Invalid) as refused:
        ask(state, "applicant.siren", "budget")
    assert [e["field"] for e in refused.value.errors] == ["fields.0"]
    assert refused.value.errors[0]["type"] == "field_not_correctable"


def test_one_correction_at_a_time(state):
    asked = ask(state, "budget")
    with pytest.raises(CorrectionPending):
        ask(asked, "project.summary")


def test_no_correction_after_the_president_s_decision(state):
    with pytest.raises(AlreadyDecided):
        ask(state, "budget", decided=Decision("selected", NOW))


def test_the_applicant_amends_the_fields_asked_and_the_event_keeps_both_versions(
    state, applicant, filed
):
    asked = ask(state, "requested_eur", "project.summary")
    [event] = decide(
        asked,
        Amend(applicant, DOSSIER_ID, {"requested_eur": "100000.00"}, NOW, None),
    )
    assert isinstance(event, ApplicationAmended)
    [change] = event.changes
    assert (change.field, change.before, change.after) == (
        "requested_eur", f"{filed.requested_eur:.2f}", "100000.00",
    )  # fmt: skip
    assert str(event.dossier.requested_eur) == "100000.00"
    assert event.dossier.project.summary == filed.project.summary
    after = evolve(asked, event)
    assert after.correction is None and after.dossier == event.dossier


def test_a_field_not_asked_cannot_be_amended(state, applicant):
    asked = ask(state, "requested_eur")
    with pytest.raises(Invalid) as refused:
        decide(asked, Amend(applicant, DOSSIER_ID, {"project.title": "Autre titre"}, NOW, None))
    assert refused.value.errors[0]["field"] == "changes.project.title"
    assert refused.value.errors[0]["type"] == "field_not_asked"


def test_an_amendment_is_checked_as_a_filing_is_naming_the_field(state, applicant):
    asked = ask(state, "requested_eur")
    with pytest.raises(Invalid) as refused:
        decide(asked, Amend(applicant, DOSSIER_ID, {"requested_eur": "-5"}, NOW, None))
    assert refused.value.errors[0]["field"] == "changes.requested_eur"
    assert refused.value.errors[0]["type"] == "amount_negative"


def test_an_amendment_that_changes_nothing_is_refused(state, applicant, filed):
    asked = ask(state, "requested_eur")
    same = {"requested_eur": f"{filed.requested_eur:.2f}"}
    with pytest.raises(Invalid):
        decide(asked, Amend(applicant, DOSSIER_ID, same, NOW, None))


def test_no_amendment_without_a_request(state, applicant):
    with pytest.raises(NoCorrectionAsked):
        decide(state, Amend(applicant, DOSSIER_ID, {"requested_eur": "1.00"}, NOW, None))


def test_the_deadline_passed_is_said_once_and_only_of_an_unanswered_request(state, applicant):
    asked = ask(state, "requested_eur")
    assert asked.correction is not None
    [overdue] = decide(asked, MarkCorrectionOverdue(DOSSIER_ID, DUE, DUE))
    assert isinstance(overdue, CorrectionOverdue)
    assert decide(evolve(asked, overdue), MarkCorrectionOverdue(DOSSIER_ID, DUE, DUE)) == []
    [amended] = decide(asked, Amend(applicant, DOSSIER_ID, {"requested_eur": "1.00"}, NOW, None))
    answered = evolve(asked, amended)
    assert decide(answered, MarkCorrectionOverdue(DOSSIER_ID, DUE, DUE)) == []


def test_a_dossier_is_closed_as_incomplete_only_once_its_deadline_passed(state):
    asked = ask(state, "budget")
    with pytest.raises(CorrectionNotOverdue):
        decide(asked, CloseIncomplete(INSTRUCTOR, DOSSIER_ID, "Pas de réponse.", NOW, None))
    [closed] = decide(asked, CloseIncomplete(INSTRUCTOR, DOSSIER_ID, "Pas de réponse.", DUE, None))
    assert isinstance(closed, DossierClosedIncomplete)
    assert not evolve(asked, closed).open
    with pytest.raises(NoCorrectionAsked):
        decide(state, CloseIncomplete(INSTRUCTOR, DOSSIER_ID, "x", DUE, None))


def test_the_applicant_is_reminded_once_per_reminder_while_the_correction_is_awaited(state):
    asked = ask(state, "budget")
    at_d7 = DUE - timedelta(days=7)
    [reminder] = decide(asked, RemindOfCorrection(DOSSIER_ID, DUE, 7, (7, 1), at_d7))
    assert isinstance(reminder, DeadlineApproaching)
    assert (reminder.deadline, reminder.party, reminder.days_left) == (
        DeadlineKind.correction, PartyToAct.applicant, 7,
    )  # fmt: skip
    reminded = evolve(asked, reminder)
    later = at_d7 + timedelta(hours=1)
    assert decide(reminded, RemindOfCorrection(DOSSIER_ID, DUE, 7, (7, 1), later)) == []
    at_d1 = DUE - timedelta(days=1)
    [last] = decide(reminded, RemindOfCorrection(DOSSIER_ID, DUE, 1, (7, 1), at_d1))
    assert isinstance(last, DeadlineApproaching) and last.days_left == 1


def test_no_reminder_for_a_correction_already_answered(state, applicant):
    asked = ask(state, "requested_eur")
    [amended] = decide(asked, Amend(applicant, DOSSIER_ID, {"requested_eur": "1.00"}, NOW, None))
    answered = evolve(asked, amended)
    at_d1 = DUE - timedelta(days=1)
    assert decide(answered, RemindOfCorrection(DOSSIER_ID, DUE, 1, (7, 1), at_d1)) == []


def test_a_correction_without_a_deadline_gets_the_campaign_s_days(state):
    command = RequestCorrection(
        INSTRUCTOR, DOSSIER_ID, uuid4(), ["budget"], "x", None, NOW, None, CAMPAIGNS
    )
    [event] = decide(state, command)
    assert isinstance(event, CorrectionRequested)
    assert event.due_at == NOW + timedelta(days=CAMPAIGNS["demo"].deadlines.correction_days)


def amended(state: DossierState, applicant: Actor, amount: str) -> tuple[DossierState, UUID]:
    asked = ask(state, "requested_eur")
    [event] = decide(asked, Amend(applicant, DOSSIER_ID, {"requested_eur": amount}, NOW, None))
    assert isinstance(event, ApplicationAmended)
    return evolve(asked, event), event.request_id


def hear(state: DossierState, decided_on: UUID | None) -> list[DomainEvent]:
    return decide(state, HearDecision(DOSSIER_ID, decided_on, NOW, NOW + timedelta(minutes=1)))


def test_an_amendment_that_crossed_the_decision_is_set_aside_and_the_dossier_as_decided_stands(
    state, applicant, filed
):
    after, crossed = amended(state, applicant, "2253.51")  # taken: the decision not yet heard
    [event] = hear(after, None)  # the President decided on the dossier as filed
    assert isinstance(event, AmendmentsSetAside)
    assert event.request_ids == [crossed]
    assert event.dossier == filed
    restored = evolve(after, event)
    assert restored.dossier == filed
    assert hear(restored, None) == []  # heard twice: set aside once


def test_only_the_amendments_after_the_one_decided_on_are_set_aside(state, applicant):
    first, decided_on = amended(state, applicant, "90000.00")
    second, crossed = amended(first, applicant, "2253.51")
    [event] = hear(second, decided_on)
    assert isinstance(event, AmendmentsSetAside)
    assert event.request_ids == [crossed]
    assert str(event.dossier.requested_eur) == "90000.00"


def test_a_decision_on_the_dossier_as_it_stands_sets_nothing_aside(state, applicant):
    assert hear(state, None) == []
    after, last = amended(state, applicant, "90000.00")
    assert hear(after, last) == []


def test_a_decision_on_a_version_the_dossier_never_had_sets_nothing_aside(state, applicant):
    after, _ = amended(state, applicant, "90000.00")
    assert hear(after, uuid4()) == []
    assert hear(DossierState(), None) == []


def test_a_decision_of_version_1_does_not_say_its_version_and_sets_nothing_aside():
    # given a decision as version 1 wrote it, without the version of the dossier decided on
    written = SelectionDecidedV1(
        dossier_id=DOSSIER_ID, reference="AAP-DEMO-00008", campaign_id="demo",
        siren="213105554", departement="59", outcome=Outcome.selected,
        requested_eur=Decimal("150000.00"), granted_eur=Decimal("100000.00"),
        motivation="Retenu.", decided_at=NOW,
    )  # fmt: skip
    # when it is read (upcast to version 2)
    decided = read_event(written.cloud_type(), written.model_dump(mode="json"))
    # then the version decided on is unsaid: applications sets nothing aside on it
    assert isinstance(decided, SelectionDecided) and decided.decided_on is None
