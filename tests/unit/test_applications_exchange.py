"""A dossier's exchange: attachments, the thread's messages, the agents' private notes."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.applications.commands import AddAttachment, AddNote, PostMessage
from services.applications.domain import DossierState, decide, evolve
from services.applications.errors import UnknownDossier
from shared.contracts.applications import (
    ApplicationSubmitted,
    AttachmentAdded,
    Dossier,
    MessagePosted,
    NoteAdded,
    Side,
)
from shared.contracts.values import Attachment
from shared.language.actors import Actor, Role
from shared.language.attachments import AttachmentKind, Audience
from shared.language.errors import Forbidden, Invalid
from tests.factories import eligible_dossier

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
DOSSIER_ID = uuid4()


@pytest.fixture
def filed() -> Dossier:
    return Dossier.model_validate(eligible_dossier())


@pytest.fixture
def state(filed: Dossier) -> DossierState:
    submitted = ApplicationSubmitted(
        dossier_id=DOSSIER_ID,
        reference="AAP-DEMO-00007",
        campaign_id="demo",
        submitted_at=NOW,
        dossier=filed,
    )
    return evolve(DossierState(), submitted)


def actor(role: Role, filed: Dossier, **binding: str) -> Actor:
    if role is Role.applicant:
        binding.setdefault("siren", filed.applicant.siren)
    if role is Role.prefecture:
        binding.setdefault("departement", filed.applicant.departement)
    return Actor(role, f"{role.value}@example.fr", **binding)


def a_file(kind: AttachmentKind = AttachmentKind.deliberation) -> Attachment:
    return Attachment(
        attachment_id=uuid4(),
        kind=kind,
        name="délibération du conseil.pdf",
        media_type="application/pdf",
        size=1234,
        sha256="0" * 64,
    )


def attached(
    state: DossierState, who: Actor, audience: Audience
) -> tuple[DossierState, Attachment]:
    file = a_file()
    [event] = decide(state, AddAttachment(who, DOSSIER_ID, file, audience, NOW))
    return evolve(state, event), file


def test_the_applicant_attaches_its_council_s_deliberation(state, filed):
    [event] = decide(
        state,
        AddAttachment(actor(Role.applicant, filed), DOSSIER_ID, a_file(), Audience.parties, NOW),
    )
    assert isinstance(event, AttachmentAdded)
    assert (event.side, event.audience, event.reference) == (
        Side.applicant, Audience.parties, "AAP-DEMO-00007",
    )  # fmt: skip


def test_only_agents_attach_a_file_for_the_agents_alone(state, filed):
    with pytest.raises(Invalid) as refused:
        decide(
            state,
            AddAttachment(actor(Role.applicant, filed), DOSSIER_ID, a_file(), Audience.agents, NOW),
        )
    assert refused.value.errors[0]["field"] == "audience"
    prefecture = actor(Role.prefecture, filed)
    [event] = decide(state, AddAttachment(prefecture, DOSSIER_ID, a_file(), Audience.agents, NOW))
    assert isinstance(event, AttachmentAdded) and event.side is Side.prefecture


def test_nobody_outside_the_dossier_s_binding_writes_in_it(state, filed):
    other_siren = actor(Role.applicant, filed, siren="217174036")
    other_prefecture = actor(Role.prefecture, filed, departement="75")
    for who in (other_siren, other_prefecture):
        with pytest.raises(UnknownDossier):
            decide(state, PostMessage(who, DOSSIER_ID, uuid4(), "Bonjour", [], NOW))


def test_an_auditor_writes_nothing(state, filed):
    with pytest.raises(Forbidden):
        decide(state, PostMessage(actor(Role.auditor, filed), DOSSIER_ID, uuid4(), "x", [], NOW))


def test_a_message_carries_files_the_dossier_holds(state, filed):
    applicant = actor(Role.applicant, filed)
    state, file = attached(state, applicant, Audience.parties)
    [event] = decide(
        state,
        PostMessage(
            applicant, DOSSIER_ID, uuid4(), "Voici la délibération.", [file.attachment_id], NOW
        ),
    )
    assert isinstance(event, MessagePosted) and event.attachments == [file.attachment_id]
    with pytest.raises(Invalid) as refused:
        decide(state, PostMessage(applicant, DOSSIER_ID, uuid4(), "x", [uuid4()], NOW))
    assert refused.value.errors[0]["type"] == "attachment_unknown"


def test_a_message_the_applicant_reads_never_carries_a_file_for_the_agents(state, filed):
    instructor = actor(Role.instructor, filed)
    state, private = attached(state, instructor, Audience.agents)
    with pytest.raises(Invalid) as refused:
        decide(
            state, PostMessage(instructor, DOSSIER_ID, uuid4(), "x", [private.attachment_id], NOW)
        )
    assert refused.value.errors[0] == {
        "field": "attachments.0",
        "type": "attachment_private",
        "reason": "a file for the agents alone cannot go with a message the applicant reads",
        "context": {},
    }
    [note] = decide(
        state,
        AddNote(instructor, DOSSIER_ID, uuid4(), "Avis interne", [private.attachment_id], NOW),
    )
    assert isinstance(note, NoteAdded) and note.side is Side.mildeca


def test_an_applicant_never_writes_a_private_note(state, filed):
    with pytest.raises(Forbidden):
        decide(state, AddNote(actor(Role.applicant, filed), DOSSIER_ID, uuid4(), "x", [], NOW))


def test_a_file_attached_twice_by_a_retry_is_recorded_once(state, filed):
    applicant = actor(Role.applicant, filed)
    state, file = attached(state, applicant, Audience.parties)
    assert decide(state, AddAttachment(applicant, DOSSIER_ID, file, Audience.parties, NOW)) == []
