"""The documents on the running platform: each mailed as a PDF with the mail of its event, the
same downloaded by whoever may read the dossier, each carrying its event's hash in the audit."""

import io
import re
from email.message import EmailMessage
from uuid import uuid4

import pypdf

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey
from tests.helpers import wait_for


def text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages).replace("\u00a0", " "))


def attachment(j: Journey, template: str) -> tuple[str, bytes]:
    (mail,) = [
        m for m in j.platform.mail.to_dossier(j.reference) if m["X-AAP-Template"] == template
    ]
    assert isinstance(mail, EmailMessage)
    (pdf,) = list(mail.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    return str(pdf.get_filename()), pdf.get_content()


async def download(j: Journey, path: str, role: Role, **binding: str) -> bytes | int:
    response = await j.call(
        "notifications", "GET", f"/dossiers/{j.dossier_id}/{path}", role, **binding
    )
    return response.content if response.status_code == 200 else response.status_code


async def audited_hash(j: Journey, event_type: str) -> str:
    async def found() -> str | None:
        response = await j.call(
            "notifications", "GET", f"/audit/dossiers/{j.dossier_id}", Role.auditor
        )
        if response.status_code != 200:
            return None
        hashes = [e["hash"] for e in response.json()["events"] if e["type"] == event_type]
        return hashes[-1] if hashes else None

    return await wait_for(found, timeout=60, what=f"{event_type} of {j.reference} in the audit")


async def test_the_decision_convention_and_attestation_are_mailed_and_downloadable_as_pdf(
    platform: Platform,
):
    j = await Journey(platform).file()
    assert (await j.checked())["eligible"] is True
    # before the decision, no letter: the event has not happened
    assert await download(j, "documents/decision.pdf", Role.applicant) == 404
    await j.opinion()
    await j.assess("120000.00")
    await j.decide("selected", "120000.00")
    await j.sign_by_all()
    await j.committed()
    await j.command("payments", "/instalments", Role.instructor)
    await j.mails("decision_selected", "convention_signed", "instalment_paid")

    name, letter = attachment(j, "decision_selected")
    assert name == f"decision-{j.reference}.pdf"
    said = text(letter)
    assert "une subvention de 120 000,00 € est attribuée" in said
    assert j.reference in said and "Commune de Roubaix" in said
    assert (await audited_hash(j, "SelectionDecided")) in said.replace(" ", "")
    # the same letter, downloaded by the applicant, and by nobody outside the dossier's binding
    assert await download(j, "documents/decision.pdf", Role.applicant) == letter
    assert await download(j, "documents/decision.pdf", Role.applicant, siren="213186091") == 404
    assert await download(j, "documents/decision.pdf", Role.prefecture, departement="62") == 404

    _, convention = attachment(j, "convention_signed")
    said = text(convention)
    assert "Pour la collectivité" in said and "Pour la MILDECA" in said
    assert "Annexe 2 — Échéancier des versements" in said
    assert (await audited_hash(j, "ConventionSigned")) in said.replace(" ", "")
    assert await download(j, "documents/convention.pdf", Role.prefecture) == convention

    _, attestation = attachment(j, "instalment_paid")
    assert "Attestation de versement n° 1" in text(attestation)
    listed = await j.call(
        "notifications", "GET", f"/dossiers/{j.dossier_id}/documents", Role.instructor
    )
    paths = [d["path"] for d in listed.json()]
    assert paths[:2] == ["documents/decision.pdf", "documents/convention.pdf"]
    assert await download(j, paths[2], Role.instructor) == attestation


async def test_a_sessions_minutes_are_for_mildeca_and_the_auditors_only(platform: Platform):
    j = Journey(platform)
    path = f"/sessions/{uuid4()}/minutes.pdf"
    refused = await j.call("notifications", "GET", path, Role.applicant, siren="213186091")
    assert refused.status_code == 403
    unknown = await j.call("notifications", "GET", path, Role.instructor)
    assert unknown.status_code == 404  # no session held with this id
