"""Filing a dossier: by its applicant only, within the call's calendar, once, with a readable
reference."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.applications.commands import Submit
from services.applications.domain import DossierState, decide, evolve, reference_for
from services.applications.errors import AlreadySubmitted, CallClosed, CallNotOpen
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn, Dossier
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign, load_campaigns
from shared.language.errors import Forbidden
from tests.factories import eligible_dossier, random_siren

PARIS = ZoneInfo("Europe/Paris")
DEADLINE = datetime(2024, 4, 30, 0, 0, tzinfo=PARIS)
PUBLISHED = datetime(2024, 1, 16, 0, 0, tzinfo=PARIS)


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaigns()["mildeca-2024"]


def applicant_of(dossier: Dossier) -> Actor:
    return Actor(Role.applicant, "maire@roubaix.example.fr", siren=dossier.applicant.siren)


def file(
    campaign: Campaign,
    now: datetime,
    state: DossierState = DossierState(),  # noqa: B008 (frozen: a value, never shared state)
    actor: Actor | None = None,
):
    dossier = Dossier.model_validate(eligible_dossier())
    return decide(
        state,
        Submit(
            actor=actor or applicant_of(dossier),
            dossier_id=uuid4(),
            reference="AAP-2024-00001",
            campaign=campaign,
            dossier=dossier,
            now=now,
        ),
    )


OPEN = DEADLINE - timedelta(days=1)


def test_an_applicant_may_not_file_a_dossier_for_another_siren(campaign):
    # given an applicant bound to one SIREN
    other = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    # when it files a dossier of another SIREN
    with pytest.raises(Forbidden) as caught:
        file(campaign, OPEN, actor=other)
    # then it is refused, naming both SIRENs
    assert other.siren in caught.value.detail
    assert "the dossier belongs to SIREN" in caught.value.detail


@pytest.mark.parametrize("role", [Role.prefecture, Role.instructor, Role.president, Role.auditor])
def test_only_the_applicant_may_file_a_dossier(campaign, role):
    actor = Actor(
        role, "agent@example.gouv.fr", departement="59" if role is Role.prefecture else None
    )
    with pytest.raises(Forbidden) as caught:
        file(campaign, OPEN, actor=actor)
    assert "only the applicant may" in caught.value.detail


def test_a_refusal_for_the_role_comes_before_the_calendar(campaign):
    # after the deadline, an instructor is told it may not file, not that the call is closed
    with pytest.raises(Forbidden):
        file(campaign, DEADLINE + timedelta(days=1), actor=Actor(Role.instructor, "agent"))


def test_a_dossier_filed_one_microsecond_before_the_deadline_is_accepted(campaign):
    events = file(campaign, DEADLINE - timedelta(microseconds=1))
    assert len(events) == 1
    assert isinstance(events[0], ApplicationSubmitted)


def test_a_dossier_filed_at_the_deadline_is_refused(campaign):
    with pytest.raises(CallClosed):
        file(campaign, DEADLINE)


def test_a_dossier_filed_after_the_deadline_is_refused_naming_the_deadline(campaign):
    with pytest.raises(CallClosed) as caught:
        file(campaign, DEADLINE + timedelta(hours=1))
    assert "2024-04-30T00:00:00+02:00" in caught.value.detail


def test_the_deadline_is_an_instant_whatever_the_clocks_timezone(campaign):
    # 22:00 UTC on 29 April is midnight in Paris (summer time)
    with pytest.raises(CallClosed):
        file(campaign, datetime(2024, 4, 29, 22, 0, tzinfo=UTC))


def test_a_dossier_filed_late_in_utc_but_before_midnight_in_paris_is_accepted(campaign):
    events = file(campaign, datetime(2024, 4, 29, 21, 59, 59, tzinfo=UTC))
    assert len(events) == 1


def test_a_dossier_filed_before_publication_is_refused(campaign):
    with pytest.raises(CallNotOpen):
        file(campaign, PUBLISHED - timedelta(microseconds=1))


def test_a_dossier_filed_at_publication_is_accepted(campaign):
    assert len(file(campaign, PUBLISHED)) == 1


def test_a_submitted_dossier_cannot_be_submitted_again(campaign):
    with pytest.raises(AlreadySubmitted):
        file(campaign, DEADLINE - timedelta(days=1), state=DossierState(submitted=True))


def test_the_submission_records_the_dossier_campaign_reference_and_time(campaign):
    # given a dossier and an id
    dossier_id, dossier = uuid4(), Dossier.model_validate(eligible_dossier())
    now = DEADLINE - timedelta(days=1)
    # when it is submitted
    [event] = decide(
        DossierState(),
        Submit(
            actor=applicant_of(dossier),
            dossier_id=dossier_id,
            reference="AAP-2024-00042",
            campaign=campaign,
            dossier=dossier,
            now=now,
        ),
    )
    # then the event carries what was filed
    assert (event.dossier_id, event.reference, event.campaign_id) == (
        dossier_id,
        "AAP-2024-00042",
        "mildeca-2024",
    )
    assert event.submitted_at == now
    assert event.dossier == dossier


def test_a_submission_marks_the_dossier_submitted_and_remembers_its_applicant(campaign):
    [event] = file(campaign, DEADLINE - timedelta(days=1))
    state = evolve(DossierState(), event)
    assert state.submitted is True
    assert (state.reference, state.siren) == (event.reference, event.dossier.applicant.siren)


def test_a_withdrawal_marks_the_dossier_withdrawn():
    event = ApplicationWithdrawn(
        dossier_id=uuid4(),
        reference="AAP-2024-00001",
        campaign_id="mildeca-2024",
        withdrawn_at=DEADLINE,
        reason="abandon",
    )
    assert evolve(DossierState(submitted=True), event).withdrawn is True


def test_the_reference_is_the_campaign_prefix_and_a_five_digit_number(campaign):
    assert reference_for(campaign, 42) == "AAP-2024-00042"


def test_a_submission_time_must_be_timezone_aware(campaign):
    with pytest.raises(ValidationError):
        ApplicationSubmitted(
            dossier_id=uuid4(),
            reference="AAP-2024-00001",
            campaign_id=campaign.id,
            submitted_at=datetime(2024, 4, 1),
            dossier=Dossier.model_validate(eligible_dossier()),
        )


def test_a_withdrawal_time_must_be_timezone_aware():
    with pytest.raises(ValidationError):
        ApplicationWithdrawn(
            dossier_id=uuid4(),
            reference="AAP-2024-00001",
            campaign_id="mildeca-2024",
            withdrawn_at=datetime(2024, 4, 1),
            reason="x",
        )
