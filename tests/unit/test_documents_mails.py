"""Which mails carry a document, and a composed mail carrying it as a PDF attachment."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from uuid import uuid4

import pytest
from aiosmtplib.email import flatten_message

from services.notifications import domain, mailer
from services.notifications.documents import files
from services.notifications.documents.samples import CAMPAIGN, a_life
from shared.contracts.payments import FinalReportSubmitted, InstalmentPaid
from shared.contracts.selection import Outcome, SelectionDecided
from shared.kernel.settings import Settings
from shared.language.campaigns import load_campaigns

NOW = datetime(2024, 6, 20, 8, 0, tzinfo=UTC)


def decided(outcome: Outcome) -> SelectionDecided:
    return SelectionDecided(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id=CAMPAIGN,
        siren="213186091",
        departement="59",
        outcome=outcome,
        requested_eur=Decimal("160000.00"),
        granted_eur=Decimal("125000.00") if outcome is Outcome.selected else Decimal("0.00"),
        motivation="Au vu de l'avis de la préfecture et du comité.",
        decided_at=NOW,
    )


@pytest.mark.parametrize("outcome", list(Outcome))
def test_a_decision_mail_carries_the_letter_of_its_own_event(outcome):
    event_id = uuid4()
    (mail,) = domain.mails_for(decided(outcome), event_id)
    assert mail.facts["document"] == {"kind": "decision", "event_id": str(event_id)}


def test_a_payment_mail_carries_its_attestation():
    paid = InstalmentPaid(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        number=1,
        label="advance at signature",
        amount_eur=Decimal("62500.00"),
        paid_total_eur=Decimal("62500.00"),
        paid_at=NOW,
    )
    event_id = uuid4()
    (mail,) = domain.mails_for(paid, event_id)
    assert mail.facts["document"] == {"kind": "attestation", "event_id": str(event_id)}


def test_a_mail_that_records_no_binding_act_carries_no_document():
    report = FinalReportSubmitted(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        justified_spending_eur=Decimal("120000.00"),
        summary="Évaluation : 420 jeunes touchés, points de deal réduits.",
        submitted_at=NOW,
    )
    (mail,) = domain.mails_for(report, uuid4())
    assert "document" not in mail.facts


def test_every_kind_of_document_a_mail_asks_for_is_one_the_documents_render():
    assert {files.Kind(kind) for kind in domain.DOCUMENTS.values()} == set(files.Kind)


def test_a_composed_decision_mail_carries_its_letter_as_a_pdf_attachment():
    campaigns = load_campaigns()
    life = a_life(campaigns[CAMPAIGN])
    letter = files.decision(life.trail, campaigns)
    row = {
        "notification_id": "n-1:decision_selected",
        "dossier_id": life.dossier_id,
        "template": "decision_selected",
        "facts": json.dumps(
            {
                "granted_eur": "125000.00",
                "requested_eur": "160000.00",
                "motivation": "Au vu de l'avis.",
                "document": {"kind": "decision", "event_id": str(uuid4())},
            }
        ),
        "to_parties": ["applicant"],
        "cc_parties": ["prefecture"],
        "reference": "AAP-2024-00042",
        "email": "maire@roubaix.example.fr",
        "name": "Guillaume Delbar",
        "holder": "Commune de Roubaix",
        "siren": "213186091",
        "departement": "59",
    }
    composed, to, cc = mailer.compose(row, Settings(), NOW, [letter])
    mail = message_from_bytes(flatten_message(composed), policy=policy.default)  # as it is read
    assert isinstance(mail, EmailMessage)
    (attached,) = list(mail.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "decision-AAP-2024-00042.pdf"
    assert attached.get_content() == letter.content
    body = mail.get_body(("plain",)).get_content()
    assert "125\u00a0000,00\u00a0€" in body
    assert "Le courrier de décision est joint à ce message (PDF)." in body
    assert to == ["maire@roubaix.example.fr"] and len(cc) == 1
