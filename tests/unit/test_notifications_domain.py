"""Which mails an event calls for, and their wording."""

from datetime import datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain import Recipient, mails_for
from services.notifications.templates import render
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.notifications import NotificationSent
from shared.contracts.selection import EligibilityChecked, FailedRule
from tests.factories import eligible_dossier

PARIS = ZoneInfo("Europe/Paris")
WHEN = datetime(2024, 4, 1, 10, 30, tzinfo=PARIS)
RECIPIENT = Recipient(
    reference="AAP-2024-00042",
    email="maire@roubaix.example.fr",
    name="Guillaume Delbar",
    holder="Commune de Roubaix",
    siren="215905126",
    departement="59",
)
FAILURES = [
    FailedRule(rule="E1", reason="the holder's kind is 'association'"),
    FailedRule(rule="E4", reason="the project lasts 12 months"),
]


def an_application() -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        submitted_at=WHEN,
        dossier=Dossier.model_validate(eligible_dossier()),
    )


def a_check(eligible: bool) -> EligibilityChecked:
    return EligibilityChecked(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        eligible=eligible,
        failed_rules=[] if eligible else FAILURES,
        checked_at=WHEN,
        siren="215905126",
        applicant_name="Commune de Roubaix",
        departement="59",
        requested_eur="160000.00",
        objectives=["prevent_entry"],
    )


def test_a_submission_calls_for_one_acknowledgement():
    # given a submission
    event = an_application()
    # when its mails are decided
    mails = mails_for(event, uuid4())
    # then one acknowledgement is requested for the dossier
    assert len(mails) == 1
    assert mails[0].template == "acknowledgement"
    assert mails[0].dossier_id == event.dossier_id


def test_the_notification_id_is_derived_from_the_event_id():
    event_id = uuid4()
    [mail] = mails_for(an_application(), event_id)
    assert str(event_id) in mail.notification_id


def test_the_same_event_delivered_twice_gives_the_same_notification_id():
    event, event_id = an_application(), uuid4()
    assert (
        mails_for(event, event_id)[0].notification_id
        == mails_for(event, event_id)[0].notification_id
    )


def test_two_events_give_two_notification_ids():
    event = an_application()
    assert (
        mails_for(event, uuid4())[0].notification_id != mails_for(event, uuid4())[0].notification_id
    )


def test_an_eligible_check_calls_for_the_eligible_mail():
    [mail] = mails_for(a_check(eligible=True), uuid4())
    assert mail.template == "eligible"


def test_an_ineligible_check_calls_for_the_ineligible_mail_with_its_failed_rules():
    [mail] = mails_for(a_check(eligible=False), uuid4())
    assert mail.template == "ineligible"
    assert [f["rule"] for f in mail.facts["failed_rules"]] == ["E1", "E4"]


def test_an_event_that_calls_for_no_mail_gives_none():
    event = NotificationSent(
        dossier_id=uuid4(),
        notification_id="x",
        template="eligible",
        to=["a@example.fr"],
        cc=[],
        message_id="<m@x>",
        sent_at=WHEN,
    )
    assert mails_for(event, uuid4()) == []


def test_the_acknowledgement_names_the_dossier_and_its_filing_time_in_paris():
    [mail] = mails_for(an_application(), uuid4())
    subject, body = render(mail.template, RECIPIENT, mail.facts)
    assert "AAP-2024-00042" in subject
    assert "1er avril 2024 à 10 h 30" in body


def test_the_eligible_mail_says_the_dossier_is_eligible():
    [mail] = mails_for(a_check(eligible=True), uuid4())
    subject, _ = render(mail.template, RECIPIENT, mail.facts)
    assert "éligible" in subject and "n'est pas" not in subject


def test_the_ineligible_mail_lists_every_failed_rule_with_its_reason():
    # given an ineligible check with two failed rules
    [mail] = mails_for(a_check(eligible=False), uuid4())
    # when its mail is rendered
    subject, body = render(mail.template, RECIPIENT, mail.facts)
    # then each rule and its reason are in the body
    assert "n'est pas éligible" in subject
    for failure in FAILURES:
        assert f"{failure.rule} : {failure.reason}" in body


def test_rendering_an_unknown_template_raises():
    with pytest.raises(ValueError, match="no template"):
        render("congratulations", RECIPIENT, {})
