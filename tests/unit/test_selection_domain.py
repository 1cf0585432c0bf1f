"""The selection of one dossier: its eligibility is checked once, on submission, and an eligible
dossier goes to its préfecture in the same breath."""

from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.selection.commands import CheckEligibility
from services.selection.domain import SelectionState, decide, evolve
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.selection import EligibilityChecked, PrefectureOpinionRequested
from shared.language.campaigns import Campaign, load_campaigns
from tests.factories import dossier_failing_several_rules, eligible_dossier

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2024, 5, 2, 9, 0, tzinfo=PARIS)


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaigns()["mildeca-2024"]


def submitted(payload: dict) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        submitted_at=datetime(2024, 4, 1, tzinfo=PARIS),
        dossier=Dossier.model_validate(payload),
    )


def check(
    state: SelectionState,
    application: ApplicationSubmitted,
    campaign: Campaign,
    *,
    withdrawn: bool = False,
) -> list[DomainEvent]:
    return decide(state, CheckEligibility(application, campaign, withdrawn, NOW))


def test_an_eligible_dossier_is_checked_eligible_with_no_failed_rule(campaign):
    # given a submitted eligible dossier
    application = submitted(eligible_dossier())
    # when its eligibility is checked
    event = check(SelectionState(), application, campaign)[0]
    # then it is found eligible
    assert isinstance(event, EligibilityChecked)
    assert event.eligible is True
    assert event.failed_rules == []
    assert (event.dossier_id, event.reference, event.campaign_id, event.checked_at) == (
        application.dossier_id,
        "AAP-2024-00042",
        "mildeca-2024",
        NOW,
    )


def test_an_eligible_dossier_is_sent_to_the_prefecture_of_its_departement_in_the_same_append(
    campaign,
):
    application = submitted(eligible_dossier(applicant__departement="13"))
    checked, requested = check(SelectionState(), application, campaign)
    assert isinstance(checked, EligibilityChecked)
    assert requested == PrefectureOpinionRequested(
        dossier_id=application.dossier_id,
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        departement="13",
        requested_at=NOW,
        due_at=NOW + timedelta(days=campaign.deadlines.opinion_days),  # 15 days by default
    )


def test_an_ineligible_dossier_is_checked_ineligible_with_its_failed_rules_and_goes_no_further(
    campaign,
):
    application = submitted(dossier_failing_several_rules())
    [event] = check(SelectionState(), application, campaign)
    assert isinstance(event, EligibilityChecked)
    assert event.eligible is False
    assert [f.rule for f in event.failed_rules] == ["E1", "E3", "E4", "E5", "E6", "E7"]


def test_no_prefecture_is_asked_about_a_dossier_withdrawn_before_its_check(campaign):
    application = submitted(eligible_dossier())
    [event] = check(SelectionState(), application, campaign, withdrawn=True)
    assert isinstance(event, EligibilityChecked)
    assert event.eligible is True


def test_a_second_delivery_of_the_submission_changes_nothing(campaign):
    # given a dossier whose check has been recorded
    application = submitted(eligible_dossier())
    state = SelectionState()
    for event in check(state, application, campaign):
        state = evolve(state, event)
    # when the same submission arrives again
    again = check(state, application, campaign)
    # then nothing more happens
    assert again == []
    assert state.checked is not None and state.checked.eligible is True


def test_an_ineligible_check_is_remembered_as_ineligible(campaign):
    [event] = check(SelectionState(), submitted(dossier_failing_several_rules()), campaign)
    assert evolve(SelectionState(), event) == SelectionState(checked=event)
