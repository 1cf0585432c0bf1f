"""The wording of each mail: the reference, the amounts French style, the letter's parties."""

from decimal import Decimal
from uuid import uuid4

import pytest

from services.notifications.domain import mails_for
from services.notifications.templates import render
from shared.language.french import date, date_and_time, euros
from tests.unit.test_notifications_parties import EVENTS, RECIPIENT, REF, decided

NBSP = "\u00a0"


def rendered(template: str) -> tuple[str, str]:
    [mail] = mails_for(EVENTS[template][0], uuid4())
    return render(mail.template, RECIPIENT, mail.facts)


@pytest.mark.parametrize("template", EVENTS)
def test_every_mail_names_its_dossier_in_its_subject_and_body(template: str):
    subject, body = rendered(template)
    assert subject.startswith(f"[{REF}] ")
    assert REF in body


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (Decimal("120000.00"), "120 000,00 €"),
        (Decimal("240000"), "240 000,00 €"),
        (Decimal("1234567.5"), "1 234 567,50 €"),
        (Decimal("999.99"), "999,99 €"),
        (Decimal("0.00"), "0,00 €"),
        ("60000.00", "60 000,00 €"),
    ],
)
def test_amounts_are_written_french_style_with_no_break_spaces(amount, written):
    assert euros(amount) == written.replace(" ", NBSP)


def test_dates_are_written_in_french_on_paris_time():
    assert date("2024-09-30T22:30:00+00:00") == "1er octobre 2024"
    assert date_and_time("2024-04-29T21:59:00+00:00") == "29 avril 2024 à 23 h 59"


def test_the_decision_letter_is_sent_under_cover_of_the_departmental_project_lead():
    # given a selection decision
    _, body = rendered("decision_selected")
    # then the letter says the préfecture of the dossier's département is a party to it
    assert (
        "sous couvert de Madame ou Monsieur le préfet, chef de projet départemental MILDECA "
        "(département 59)"
    ) in body


def test_the_rejection_letter_is_also_sent_under_cover_and_gives_the_motivation():
    _, body = rendered("decision_rejected")
    assert "sous couvert" in body
    assert decided("rejected").motivation in body


def test_the_selection_letter_says_the_granted_and_the_requested_amounts():
    _, body = rendered("decision_selected")
    assert f"subvention de 120{NBSP}000,00{NBSP}€" in body
    assert f"demandé de 160{NBSP}000,00{NBSP}€" in body


def test_the_commitment_lists_the_payment_plan_with_its_amounts():
    _, body = rendered("funds_committed")
    assert f"120{NBSP}000,00{NBSP}€" in body
    assert f"1. à la signature de la convention : 60{NBSP}000,00{NBSP}€" in body
    assert "3. solde, après le rapport final" in body and f"24{NBSP}000,00{NBSP}€" in body


def test_the_prefecture_is_asked_for_a_motivated_opinion_favourable_reserved_or_unfavourable():
    _, body = rendered("opinion_requested")
    assert "favorable, réservé ou défavorable" in body
    assert "motivation" in body


def test_the_prefecture_is_asked_for_its_opinion_on_effectiveness_before_the_balance():
    _, body = rendered("opinion_on_balance_requested")
    assert "avis motivé" in body and "efficacité de l'action" in body
    assert f"118{NBSP}500,00{NBSP}€" in body


def test_mildeca_is_told_an_activity_report_came_and_that_the_instalment_it_unlocks_is_asked():
    subject, body = rendered("activity_report_submitted")
    assert "Rapport d'activité n° 1" in subject
    assert f"54{NBSP}200,00{NBSP}€" in body and "Deux quartiers couverts" in body
    assert "demande le versement de l'échéance" in body
    assert "1 justificatif(s)" in body


def test_a_withheld_balance_says_why():
    _, body = rendered("balance_withheld")
    assert "Aucune action menée en 3e année." in body


def test_a_signature_says_who_signed_for_which_party():
    subject, body = rendered("signature_added")
    assert "la préfecture" in subject
    assert "cdp-59@prefectures.example.gouv.fr" in body


def test_a_notice_to_mildeca_is_marked_automatic_and_a_letter_is_signed_by_mildeca():
    _, notice = rendered("opinion_given")
    _, letter = rendered("convention_signed")
    assert "Message automatique" in notice and "réservé" in notice
    assert letter.rstrip().endswith("(MILDECA)") and "Madame, Monsieur," in letter


def test_mildeca_is_told_a_grant_went_back_to_the_envelope_and_no_convention_follows():
    subject, body = rendered("grant_released")
    assert "rendue à l'enveloppe" in subject
    assert f"120{NBSP}000,00{NBSP}€" in body and "Aucune convention" in body
