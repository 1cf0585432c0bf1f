"""Instruction as the agents ask for it, on the running platform: a dossier's thread and the
agents' private notes, attachments checked by content and by hash, corrections, drafts shared
with the préfecture. Each step an event, shown in the audit, mailed to whom it concerns."""

import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from shared.language.actors import Role
from tests.e2e.conftest import Platform, text_of
from tests.e2e.steps import Journey
from tests.e2e.test_audit import aap
from tests.factories import eligible_dossier
from tests.helpers import wait_for

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def odt() -> bytes:
    """An OpenDocument text as LibreOffice writes it: a zip whose first entry names its type."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


async def upload(
    j: Journey,
    content: bytes,
    *,
    name: str = "délibération du conseil municipal.pdf",
    media_type: str = "application/pdf",
    kind: str = "deliberation",
    role: Role = Role.applicant,
    audience: str = "parties",
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            j.platform.url("applications", f"/dossiers/{j.dossier_id}/attachments"),
            files={"file": (name, content, media_type)},
            data={"kind": kind, "audience": audience},
            headers=j.token(role),
        )


async def in_read_model(j: Journey) -> dict[str, Any]:
    return await j.seen("applications", lambda d: True, "the dossier")


async def applications_db(platform: Platform) -> asyncpg.Connection:
    return await asyncpg.connect(platform.settings.admin_dsn("applications"))


async def test_a_thread_between_the_three_sides_and_notes_the_applicant_never_reads(
    platform: Platform,
):
    # given a filed dossier
    j = await Journey(platform).file()
    await in_read_model(j)
    # when the applicant writes, the préfecture answers, and MILDECA notes something for agents
    await j.command("applications", "/messages", Role.applicant, {"text": "Voici notre projet."})
    await j.command("applications", "/messages", Role.prefecture, {"text": "Bien reçu."})
    await j.command(
        "applications", "/notes", Role.instructor, {"text": "Porteur solide, à prioriser."}
    )

    # then the three sides read the thread in order
    async def thread(role: Role) -> list[dict[str, Any]]:
        response = await j.call("applications", "GET", f"/dossiers/{j.dossier_id}/messages", role)
        assert response.status_code == 200, response.text
        return list(response.json())

    async def both() -> list[dict[str, Any]] | None:
        messages = await thread(Role.applicant)
        return messages if len(messages) == 2 else None

    messages = await wait_for(both, timeout=30, what="the thread")
    assert [(m["side"], m["text"]) for m in messages] == [
        ("applicant", "Voici notre projet."),
        ("prefecture", "Bien reçu."),
    ]
    assert await thread(Role.instructor) == messages
    # and the note: the agents and the auditors read it, never the applicant
    for role in (Role.prefecture, Role.instructor, Role.auditor):
        notes = await wait_for(
            lambda role=role: _notes(j, role), timeout=30, what=f"the note for {role.value}"
        )
        assert [n["text"] for n in notes] == ["Porteur solide, à prioriser."]
    refused = await j.call("applications", "GET", f"/dossiers/{j.dossier_id}/notes", Role.applicant)
    assert refused.status_code == 403
    assert "Porteur solide" not in (await j.read("applications", Role.applicant)).text
    # and the mails: each message to the two other sides, the note to the préfecture alone
    await j.mails("acknowledgement", "message_posted", "message_posted", "note_added")
    note_mail = next(
        m for m in platform.mail.to_dossier(j.reference) if m["X-AAP-Template"] == "note_added"
    )
    assert "maire@roubaix.example.fr" not in f"{note_mail['To']} {note_mail['Cc']}"
    assert "Porteur solide" not in text_of(note_mail)
    # and the audit's history shows each of them
    history = await j.call("notifications", "GET", f"/audit/dossiers/{j.dossier_id}", Role.auditor)

    async def audited() -> bool:
        response = await j.call(
            "notifications", "GET", f"/audit/dossiers/{j.dossier_id}", Role.auditor
        )
        types = [e["type"] for e in response.json()["events"]]
        return types.count("MessagePosted") == 2 and "NoteAdded" in types

    assert history.status_code == 200
    await wait_for(audited, timeout=30, what="the thread in the audit history")


async def _notes(j: Journey, role: Role) -> list[dict[str, Any]] | None:
    response = await j.call("applications", "GET", f"/dossiers/{j.dossier_id}/notes", role)
    assert response.status_code == 200, response.text
    return response.json() or None


async def test_files_are_accepted_by_content_and_the_dossier_says_which_are_missing(
    platform: Platform,
):
    # given a filed dossier, which carries none of the files its call requires
    j = await Journey(platform).file()
    view = await in_read_model(j)
    files = await j.call("applications", "GET", f"/dossiers/{j.dossier_id}/attachments", "auditor")
    assert files.json()["missing_attachments"] == ["deliberation", "budget", "bank_details"]
    # when the applicant attaches its deliberation (PDF), its budget (an ODT named .pdf: the
    # content decides) and its bank details (PNG sent without a type)
    for content, name, media, kind in (
        (PDF, "délibération.pdf", "application/pdf", "deliberation"),
        (odt(), "budget.pdf", "application/vnd.oasis.opendocument.text", "budget"),
        (PNG, "rib.png", "application/octet-stream", "bank_details"),
    ):
        answer = await upload(j, content, name=name, media_type=media, kind=kind)
        assert answer.status_code == 201, answer.text

    # then the dossier is complete, each file named with its type read from its content
    async def complete() -> dict[str, Any] | None:
        listed = await j.call(
            "applications", "GET", f"/dossiers/{j.dossier_id}/attachments", Role.applicant
        )
        return listed.json() if listed.json()["complete"] else None

    listed = await wait_for(complete, timeout=30, what="the files in the read model")
    assert {(a["name"], a["media_type"]) for a in listed["attachments"]} == {
        ("délibération.pdf", "application/pdf"),
        ("budget.pdf", "application/vnd.oasis.opendocument.text"),
        ("rib.png", "image/png"),
    }
    assert view["campaign_id"] == "demo"


@pytest.mark.parametrize(
    ("content", "name", "media_type", "refusal"),
    [
        (b"", "vide.pdf", "application/pdf", "file_empty"),
        (PDF + b"0" * 2000, "gros.pdf", "application/pdf", "file_too_large"),
        (b"MZ\x90\x00 a program", "programme.pdf", "application/pdf", "file_type_not_accepted"),
        (b"just some text", "notes.txt", "text/plain", "file_type_not_accepted"),
        (PDF, "photo.png", "image/png", "file_type_mismatch"),
        (PDF, "../../etc/passwd.pdf", "application/pdf", "file_name_invalid"),
        (PDF, "dossier\\budget.pdf", "application/pdf", "file_name_invalid"),
    ],
)
async def test_each_refused_file_is_a_422_naming_its_reason_and_nothing_is_stored(
    platform: Platform, content: bytes, name: str, media_type: str, refusal: str
):
    # given a dossier of a call that takes files of at most 2,000 bytes
    j = await Journey(platform, campaign="small").file()
    await in_read_model(j)
    conn = await applications_db(platform)
    try:
        blobs_before = await conn.fetchval("SELECT count(*) FROM blobs")
        # when a file breaking one rule is sent
        answer = await upload(j, content, name=name, media_type=media_type)
        # then it is refused with the rule, on the field `file`
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["errors"]
        assert (error["field"], error["type"]) == ("file", refusal)
        # and nothing is stored: no bytes, no event
        assert await conn.fetchval("SELECT count(*) FROM blobs") == blobs_before
        assert await j.events("applications") == ["ApplicationSubmitted"]
    finally:
        await conn.close()


async def test_a_file_whose_stored_bytes_were_altered_is_refused_and_reported_by_the_audit(
    platform: Platform,
):
    # given a deliberation attached with a content of its own
    j = await Journey(platform).file()
    await in_read_model(j)
    content = PDF + f"% {uuid4()}\n".encode()
    answer = await upload(j, content)
    assert answer.status_code == 201, answer.text
    attachment = answer.json()["recorded"][0]["data"]["attachment"]
    path = f"/dossiers/{j.dossier_id}/attachments/{attachment['attachment_id']}"

    async def downloaded() -> httpx.Response | None:
        response = await j.call("applications", "GET", path, Role.prefecture)
        return response if response.status_code != 404 else None

    # then it is given back as it was, with its digest
    given = await wait_for(downloaded, timeout=30, what="the file in the read model")
    assert given.status_code == 200 and given.content == content
    assert given.headers["content-type"] == "application/pdf"
    assert given.headers["repr-digest"].startswith("sha-256=:")
    audit = f"/audit/streams/{j.dossier_id}"
    assert (await j.call("applications", "GET", audit, Role.auditor)).json()["verified"] is True
    # when its bytes are changed in the store, after the event (put back afterwards: the other
    # tests verify every chain of this platform)
    conn = await applications_db(platform)
    change = "UPDATE blobs SET content = $2 WHERE sha256 = $1"
    try:
        await conn.execute(change, attachment["sha256"], PDF)
        # then the download is refused, and the store's audit reports the file
        refused = await j.call("applications", "GET", path, Role.prefecture)
        assert refused.status_code == 409, refused.text
        assert attachment["sha256"] in refused.json()["detail"]
        report = (await j.call("applications", "GET", audit, Role.auditor)).json()
        assert report["verified"] is False
        assert [b["what"] for b in report["files"]["breaks"]] == ["file_altered"]
        assert report["store"]["chain_verified"] is True  # the events themselves are intact
        # and so does the command that walks the whole store
        verified = await aap(platform, "verify", "--service", "applications")
        assert verified.returncode == 1, verified.stdout + verified.stderr
        assert "file_altered" in verified.stdout + verified.stderr
    finally:
        await conn.execute(change, attachment["sha256"], content)
        await conn.close()


async def test_a_correction_asked_amended_and_the_dossier_checked_again(platform: Platform):
    # given a dossier refused at eligibility: its request is over the cap (rule E3)
    dossier = eligible_dossier(requested_eur="300000.00")
    dossier["budget"]["total_cost_eur"] = "400000.00"
    dossier["budget"]["lines"][0]["amount_eur"] = str(
        400000 - sum(float(x["amount_eur"]) for x in dossier["budget"]["lines"][1:])
    )
    j = await Journey(platform, dossier=dossier).file()
    checked = await j.checked()
    assert checked["eligible"] is False
    # when MILDECA asks to correct the amount, instead of refusing the dossier
    asked = await j.command(
        "applications",
        "/correction-request",
        Role.instructor,
        {"fields": ["requested_eur"], "reason": "Le plafond de l'appel est de 240 000 €."},
    )
    assert asked["recorded"][0]["type"] == "CorrectionRequested"
    # then the applicant may amend that field, and that field only
    not_asked = await j.refused(
        "applications",
        "/amendment",
        Role.applicant,
        {"changes": {"project.title": "Un autre titre"}},
        status=422,
    )
    assert "only the fields asked" in not_asked
    await j.command(
        "applications", "/amendment", Role.applicant, {"changes": {"requested_eur": "200000.00"}}
    )
    # and selection checks the amended dossier again: eligible, sent to its préfecture
    rechecked = await j.seen(
        "selection", lambda d: d.get("eligible") is True, "the eligibility checked again"
    )
    assert rechecked["requested_eur"] == "200000.00"
    assert (await j.events("selection"))[-2:] == [
        "EligibilityChecked",
        "PrefectureOpinionRequested",
    ]
    # and the dossier keeps both versions
    view = await j.seen("applications", lambda d: d["amendments"], "the amendment")
    [amendment] = view["amendments"]
    assert amendment["changes"] == [
        {"field": "requested_eur", "before": "300000.00", "after": "200000.00"}
    ]
    assert view["filed"]["requested_eur"] == "200000.00" and view["correction"] is None
    await j.mails("correction_requested", "application_amended", "ineligible", "eligible")


async def test_a_dossier_whose_correction_deadline_passed_is_closed_as_incomplete(
    platform: Platform,
):
    # given an eligible dossier, asked for a correction due in two seconds
    j = await Journey(platform).file()
    await j.checked()
    due = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    body = {"fields": ["budget"], "reason": "Détaillez le budget par année.", "due_at": due}
    await j.command("applications", "/correction-request", Role.instructor, body)
    closure = {"motivation": "La correction demandée n'est pas parvenue dans le délai."}
    # when MILDECA closes it before the deadline, it is refused; after it, it is closed
    early = await j.refused("applications", "/closure", Role.instructor, closure)
    assert "cannot be closed before" in early

    # and when the deadline passes, the schedule says so once, and MILDECA closes the dossier
    async def overdue() -> bool:
        return "CorrectionOverdue" in await j.events("applications")

    await wait_for(overdue, timeout=30, what="the correction's deadline passed")
    await j.command("applications", "/closure", Role.instructor, closure)
    # then every later step stops: selection counts it out of the call
    view = await j.seen("selection", lambda d: d.get("withdrawn") is True, "the closure")
    assert view["withdrawn"] is True
    refused = await j.refused(
        "selection",
        "/prefecture-opinion",
        Role.prefecture,
        {"opinion": "favorable", "motivation": "Projet solide."},
    )
    assert "closed as incomplete" in refused
    await j.mails(
        "correction_requested",
        "reminder_correction_applicant",  # the reminder of the last day, the 7th passed already
        "correction_overdue",
        "closed_incomplete",
    )
    events = await j.events("applications")
    assert events.count("CorrectionOverdue") == 1 and events.count("DeadlineApproaching") == 1


async def test_a_draft_shared_with_the_prefecture_commented_then_filed(platform: Platform):
    # given a draft saved unfinished, then whole
    j = Journey(platform)
    j.dossier["representative"]["email"] = f"maire-{uuid4().hex[:8]}@roubaix.example.fr"
    started = await j.call(
        "applications",
        "POST",
        "/campaigns/demo/drafts",
        Role.applicant,
        {"content": {"project": {"title": "Prévenir l'entrée dans les réseaux"}}},
    )
    assert started.status_code == 201, started.text
    draft_id = started.json()["draft_id"]
    saved = await j.call(
        "applications",
        "POST",
        f"/drafts/{draft_id}/content",
        Role.applicant,
        {"content": j.dossier},
    )
    assert saved.status_code == 201, saved.text
    # and never a filing: selection knows nothing of it
    assert (await j.call("selection", "GET", f"/dossiers/{draft_id}", "auditor")).status_code == 404
    # when it is shared with the préfecture of its département, which comments on it
    shared = await j.call("applications", "POST", f"/drafts/{draft_id}/sharing", Role.applicant)
    assert shared.status_code == 201, shared.text

    async def listed() -> list[dict[str, Any]] | None:
        drafts = await j.call("applications", "GET", "/drafts", Role.prefecture)
        mine = [d for d in drafts.json() if d["draft_id"] == draft_id]
        return mine or None

    await wait_for(listed, timeout=30, what="the draft shared with the préfecture")
    elsewhere = await j.call(
        "applications", "GET", f"/drafts/{draft_id}", Role.prefecture, departement="75"
    )
    assert elsewhere.status_code == 404
    comment = {"text": "Associez le bailleur social au comité de pilotage."}
    commented = await j.call(
        "applications", "POST", f"/drafts/{draft_id}/comments", Role.prefecture, comment
    )
    assert commented.status_code == 201, commented.text

    async def read() -> dict[str, Any] | None:
        response = await j.call("applications", "GET", f"/drafts/{draft_id}", Role.applicant)
        return response.json() if response.json()["comments"] else None

    view = await wait_for(read, timeout=30, what="the comment on the draft")
    assert view["comments"][0]["text"] == comment["text"]
    # then the draft is filed as the dossier, with its id, and checked as any filing
    filed = await j.call("applications", "POST", f"/drafts/{draft_id}/filing", Role.applicant)
    assert filed.status_code == 201, filed.text
    submitted = filed.json()["recorded"][0]
    assert submitted["type"] == "ApplicationSubmitted"
    j.dossier_id, j.reference = draft_id, submitted["data"]["reference"]
    assert (await j.checked())["eligible"] is True
    # and the préfecture and the applicant were mailed
    contact = j.dossier["representative"]["email"]

    def ours(m: Any) -> bool:
        if m["X-AAP-Template"] == "draft_shared":  # to the préfecture: the draft's SIREN
            return j.siren in text_of(m)
        return contact in str(m["To"])

    async def mailed() -> list[str] | None:
        got = sorted(str(m["X-AAP-Template"]) for m in platform.mail.messages() if ours(m))
        wanted = {"draft_shared", "draft_commented", "acknowledgement"}
        return got if wanted <= set(got) else None

    await wait_for(mailed, timeout=60, what="the draft's mails")


async def test_proofs_of_spending_go_with_the_final_report_checked_as_every_file(
    platform: Platform,
):
    # given a dossier selected, signed, its funds committed
    j = await Journey(platform).selected_and_signed()
    path = f"/dossiers/{j.dossier_id}/final-report/proofs"

    async def send(content: bytes, name: str, media_type: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                platform.url("payments", path),
                files={"file": (name, content, media_type)},
                headers=j.token(Role.applicant),
            )

    # when the collectivité attaches an invoice, and a file whose content is not accepted
    invoice = PDF + f"% facture {uuid4()}\n".encode()
    added = await send(invoice, "facture animateur.pdf", "application/pdf")
    assert added.status_code == 201, added.text
    proof = added.json()["recorded"][0]
    assert proof["type"] == "SpendingProofAdded"
    assert proof["data"]["attachment"]["kind"] == "proof_of_spending"
    refused = await send(b"plain text", "facture.pdf", "application/pdf")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"

    # then the préfecture lists and downloads it, as it was sent
    async def listed() -> list[dict[str, Any]] | None:
        answer = await j.call("payments", "GET", path, Role.prefecture)
        return answer.json() or None

    [shown] = await wait_for(listed, timeout=30, what="the proof in payments' read model")
    got = await j.call("payments", "GET", f"{path}/{shown['attachment_id']}", Role.prefecture)
    assert got.status_code == 200 and got.content == invoice
    # and another collectivité learns nothing of it
    other = await j.call("payments", "GET", path, Role.applicant, siren="217174036")
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        ({"project": {"title": "Prévenir\u0000"}}, "text_nul"),
        ({"note\u0000": "une clé qui ne se garde pas"}, "text_nul"),
        ({"project": {"summary": "x" * 300_000}}, "draft_too_large"),
    ],
)
async def test_a_draft_the_database_cannot_keep_is_a_422_and_nothing_is_stored(
    platform: Platform, content: dict[str, Any], refusal: str
):
    j = Journey(platform)
    answer = await j.call("applications", "POST", "/campaigns/demo/drafts", Role.applicant, {
        "content": content
    })  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["type"]) for e in answer.json()["errors"]] == [("content", refusal)]
    drafts = await j.call("applications", "GET", "/drafts", Role.applicant)
    assert drafts.json() == []
