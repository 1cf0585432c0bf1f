"""The PDF documents, read back: their text (amounts, names, dates in French), the hash of the
event each records, PDF/A-3b, the event embedded, a first page that renders."""

import io
import json
import re
from uuid import uuid4

import pypdf
import pypdfium2
import pytest

from services.notifications.documents import files
from services.notifications.documents.dossier import NoSuchDocument
from services.notifications.documents.samples import CAMPAIGN, a_life, a_session
from shared.audit import AuditEvent
from shared.language.campaigns import load_campaigns


@pytest.fixture(scope="module")
def campaigns():
    return load_campaigns()


@pytest.fixture(scope="module")
def life(campaigns):
    return a_life(campaigns[CAMPAIGN], granted="125000.00")


@pytest.fixture(scope="module")
def rendered(life, campaigns) -> dict[str, files.Document]:
    """Each document once for the module: WeasyPrint takes a few tenths of a second each."""
    payments = [e for e in life.trail if e.type in ("InstalmentPaid", "BalanceReleased")]
    rejected = a_life(campaigns[CAMPAIGN], selected=False, seed="rejected")
    return {
        "decision": files.decision(life.trail, campaigns),
        "rejection": files.decision(rejected.trail, campaigns),
        "convention": files.convention_of(life.trail, campaigns),
        "advance": files.attestation_of(life.trail, payments[0].event_id),
        "second": files.attestation_of(life.trail, payments[1].event_id),
        "balance": files.attestation_of(life.trail, payments[2].event_id),
        "minutes": files.minutes_of(a_session(campaigns[CAMPAIGN]).trail, campaigns),
    }


def text(document: files.Document) -> str:
    """The document's text, its no-break spaces and line breaks read as plain spaces."""
    reader = pypdf.PdfReader(io.BytesIO(document.content))
    raw = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", raw.replace("\u00a0", " "))


def recorded(life, event_type: str) -> AuditEvent:
    return [e for e in life.trail if e.type == event_type][-1]


DOCUMENTS = ["decision", "rejection", "convention", "advance", "second", "balance", "minutes"]


def test_a_decision_letter_names_the_granted_and_requested_amounts_in_french(rendered):
    said = text(rendered["decision"])
    assert "une subvention de 125 000,00 € est attribuée" in said
    assert "montant demandé de 150 000,00 €" in said


def test_a_decision_letter_is_dated_and_addressed_under_cover_of_the_departmental_lead(rendered):
    said = text(rendered["decision"])
    assert "Paris, le 20 juin 2024" in said
    assert "Sylvie Bousquet" in said and "Commune d'Alès" in said
    assert "Sous couvert de Madame ou Monsieur le préfet, chef de projet départemental" in said
    assert "AAP-2024-00042" in said


def test_a_decision_letter_carries_the_state_identity_and_the_motivation(rendered):
    said = text(rendered["decision"])
    assert "RÉPUBLIQUE FRANÇAISE" in said.upper()
    assert "Liberté Égalité Fraternité" in said
    assert "MILDECA" in said
    assert "Plan global mobilisant plusieurs leviers" in said


def test_a_rejection_letter_says_the_project_is_not_retained_and_why(rendered):
    said = text(rendered["rejection"])
    assert "n'a pas été retenu" in said
    assert "Actions ponctuelles et peu coordonnées" in said
    assert "subvention de" not in said


def test_the_convention_shows_each_partys_signature_with_its_time(rendered):
    said = text(rendered["convention"])
    assert "Pour la collectivité" in said and "le 2 juillet 2024 à 9 h 12" in said
    assert "Pour la préfecture" in said and "le 4 juillet 2024 à 15 h 40" in said
    assert "Pour la MILDECA" in said and "le 8 juillet 2024 à 17 h 05" in said
    assert "presidente@mildeca.gouv.fr" in said


def test_the_convention_annexes_the_budget_as_filed_and_the_payment_plan(rendered):
    said = text(rendered["convention"])
    assert "Annexe 1 — Budget prévisionnel" in said
    assert "Personnel dédié au projet — Coordinatrice du plan (CDD 3 ans) 42 000,00 €" in said
    assert "Évaluation — Évaluation par un laboratoire" in said  # each line's category, in French
    assert "Coût total du projet 190 000,00 €" in said
    assert "Annexe 2 — Échéancier des versements" in said
    # the campaign's shares of the grant, to the cent: 50 %, 30 %, then the balance
    assert "50 % 62 500,00 €" in said and "30 % 37 500,00 €" in said and "20 % 25 000,00 €" in said


def test_the_convention_names_its_three_parties_and_its_grant(rendered):
    said = text(rendered["convention"])
    assert "Commune d'Alès (SIREN 213000078)" in said
    assert "La préfecture du département 30" in said
    assert "subvention de 125 000,00 €" in said
    assert "36 mois" in said


def test_an_attestation_names_the_payment_the_total_paid_and_what_remains(rendered):
    said = text(rendered["second"])
    assert "Attestation de versement n° 2" in said
    assert "la somme de 37 500,00 €, le 15 septembre 2025" in said
    assert "Total versé à ce jour 100 000,00 €" in said
    assert "Reste à verser au plus 25 000,00 €" in said
    assert "Subvention engagée le 8 juillet 2024 125 000,00 €" in said


def test_the_balance_attestation_is_the_attestation_of_the_solde(rendered):
    said = text(rendered["balance"])
    assert "Attestation de versement du solde" in said
    assert "Total versé à ce jour 125 000,00 €" in said
    assert "Reste à verser au plus 0,00 €" in said


def test_the_minutes_name_the_members_present_and_the_dossiers_in_their_ranking(rendered):
    said = text(rendered["minutes"])
    assert "Séance du 12 juin 2024 à 14 h 30" in said
    assert "rapporteur.justice@mildeca.gouv.fr" in said
    assert "1 AAP-2024-00042 4,35 / 5 125 000,00 €" in said
    assert "2 AAP-2024-00017 3,90 / 5 98 000,00 €" in said
    assert "Total proposé (3 dossiers) 223 000,00 €" in said
    assert "conflit d'intérêts déclaré" in said


def test_the_minutes_carry_the_hash_of_the_session_held(rendered, campaigns):
    held = a_session(campaigns[CAMPAIGN]).trail[-1]
    assert held.hash in text(rendered["minutes"]).replace(" ", "")


def test_no_minutes_exist_before_the_session_is_held(life, campaigns):
    with pytest.raises(NoSuchDocument):
        files.minutes_of([], campaigns)


@pytest.mark.parametrize(
    ("document", "event_type"),
    [
        ("decision", "SelectionDecided"),
        ("convention", "ConventionSigned"),
        ("balance", "BalanceReleased"),
    ],
)
def test_a_document_carries_the_hash_of_the_event_it_records(rendered, life, document, event_type):
    event = recorded(life, event_type)
    said = text(rendered[document])
    assert event.hash in said.replace(" ", "")
    assert str(event.event_id) in said


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_document_is_pdf_a_3b(rendered, document):
    reader = pypdf.PdfReader(io.BytesIO(rendered[document].content))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert reader.trailer["/Root"]["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"  # its sRGB
    assert reader.trailer["/Root"]["/Lang"] == "fr"


@pytest.mark.parametrize("document", ["decision", "convention", "second"])
def test_a_document_embeds_the_event_it_records_whose_hash_still_links(rendered, document):
    reader = pypdf.PdfReader(io.BytesIO(rendered[document].content))
    (embedded,) = reader.attachments["evenement.json"]
    event = AuditEvent.from_json(json.loads(embedded))
    assert event.links()
    assert event.hash in text(rendered[document]).replace(" ", "")


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_document_opens_and_its_first_page_renders_as_a_non_blank_image(rendered, document):
    page = pypdfium2.PdfDocument(rendered[document].content)[0]
    image = page.render(scale=0.5).to_pil().convert("L")
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey: the text, the header
    assert image.size[0] > 250 and image.size[1] > 350
    assert dark > 0.005 * image.size[0] * image.size[1]


def test_a_decision_letter_reads_the_same_when_downloaded_after_later_events(life, campaigns):
    decided = recorded(life, "SelectionDecided")
    then = [e for e in life.trail if e.occurred_at <= decided.occurred_at]
    mailed = files.of_event(files.Kind.decision, then, decided.event_id, campaigns)
    assert mailed.content == files.decision(life.trail, campaigns).content


def test_no_decision_letter_exists_before_the_decision(life, campaigns):
    filed = life.trail[:1]
    with pytest.raises(NoSuchDocument):
        files.decision(filed, campaigns)
    with pytest.raises(NoSuchDocument):
        files.convention_of(filed, campaigns)


def test_an_attestation_is_given_for_a_payment_only(life):
    with pytest.raises(NoSuchDocument):
        files.attestation_of(life.trail, recorded(life, "SelectionDecided").event_id)
    with pytest.raises(NoSuchDocument):
        files.attestation_of(life.trail, uuid4())


def test_a_dossiers_documents_list_its_decision_its_convention_and_each_payment(life):
    listed = files.available(life.trail)
    assert [d["kind"] for d in listed] == [
        "decision",
        "convention",
        "attestation",
        "attestation",
        "attestation",
    ]
    balance = recorded(life, "BalanceReleased")
    assert listed[-1]["path"] == f"documents/attestations/{balance.event_id}.pdf"
    assert listed[-1]["hash"] == balance.hash
