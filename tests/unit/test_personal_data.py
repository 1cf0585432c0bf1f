"""A person's data sealed under their own key: read back with it, erased without it, the hash
chain covering the ciphertext (docs/personal-data.md)."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema

from shared.audit import AuditEvent
from shared.contracts import DomainEvent
from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationSubmitted,
    Dossier,
    DraftShared,
    FieldChange,
    MessagePosted,
)
from shared.contracts.notifications import NotificationSent
from shared.kernel import hashchain
from shared.personal.fields import emails_in, opened, persons_in, sealed
from shared.personal.sealing import ERASED, UNOPENED, Kind, new_key, open_value, seal
from shared.personal.vault import MemoryVault
from tests.factories import eligible_dossier

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas" / "events"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NAME, EMAIL = "Guillaume Delbar", "maire@roubaix.example.fr"


def a_filing() -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=uuid4(),
        reference="AAP-DEMO-00001",
        campaign_id="demo",
        submitted_at=NOW,
        dossier=Dossier.model_validate(eligible_dossier()),
    )


async def as_written(vault: MemoryVault, event: DomainEvent) -> dict[str, Any]:
    """The event's JSON as the store writes it: the people it names sealed."""
    data = event.model_dump(mode="json")
    keys = await vault.persons(emails_in(type(event), data), str(event.dossier_id))
    return sealed(type(event), data, keys)


async def sealed_filing(vault: MemoryVault) -> tuple[ApplicationSubmitted, dict[str, Any]]:
    event = a_filing()
    return event, await as_written(vault, event)


def test_a_sealed_value_reads_back_with_its_person_s_key():
    person, key = uuid4(), new_key()
    assert open_value(seal(EMAIL, person, key, Kind.email), {person: key}) == EMAIL


def test_a_sealed_value_never_contains_its_clear_text():
    person, key = uuid4(), new_key()
    value = seal(NAME, person, key, Kind.name)
    assert NAME not in value and "Delbar" not in value
    assert seal(NAME, person, key, Kind.name) != value  # a new nonce each time


def test_a_value_whose_key_is_erased_reads_as_erased():
    person = uuid4()
    assert (
        open_value(seal(EMAIL, person, new_key(), Kind.email), {person: None})
        == (ERASED[Kind.email])
    )


def test_a_value_read_without_the_vault_reads_as_unopened():
    assert open_value(seal(NAME, uuid4(), new_key(), Kind.name), {}) == UNOPENED[Kind.name]


def test_a_value_does_not_open_under_another_key_nor_as_another_kind():
    person, key = uuid4(), new_key()
    assert open_value(seal(NAME, person, key, Kind.name), {person: new_key()}) == ERASED[Kind.name]
    forged = seal(NAME, person, key, Kind.name).replace(":name:", ":email:")
    assert open_value(forged, {person: key}) == ERASED[Kind.email]


async def test_a_filing_s_representative_is_sealed_and_nothing_else():
    vault = MemoryVault()
    event, data = await sealed_filing(vault)
    text = json.dumps(data, ensure_ascii=False)
    assert NAME not in text and EMAIL not in text
    assert "Commune de Roubaix" in text and event.dossier.project.title in text
    assert persons_in(data) == {vault.people[EMAIL]}
    reread = ApplicationSubmitted.model_validate(opened(data, await vault.keys(persons_in(data))))
    assert reread == event


async def test_a_filing_erased_still_passes_its_contract_with_the_placeholders():
    vault = MemoryVault()
    _, data = await sealed_filing(vault)
    vault.erase(EMAIL)
    reread = ApplicationSubmitted.model_validate(opened(data, await vault.keys(persons_in(data))))
    assert reread.dossier.representative.name == ERASED[Kind.name]
    assert str(reread.dossier.representative.email) == ERASED[Kind.email]
    assert reread.dossier.representative.role.value == "maire"


async def test_the_wire_form_of_a_sealed_filing_is_the_one_its_schema_publishes():
    _, data = await sealed_filing(MemoryVault())
    schema = json.loads((SCHEMAS / "ApplicationSubmitted.v3.json").read_text())
    jsonschema.validate(data, schema)
    clear = a_filing().model_dump(mode="json")
    try:
        jsonschema.validate(clear, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the v3 schema says the representative is sealed on the wire")


async def test_an_amendment_seals_the_representative_before_and_after_and_no_other_change():
    vault = MemoryVault()
    dossier = Dossier.model_validate(eligible_dossier())
    before = dossier.representative.model_dump(mode="json")
    after = {**before, "name": "Anne Dupont", "email": "a.dupont@roubaix.example.fr"}
    event = ApplicationAmended(
        dossier_id=uuid4(),
        reference="AAP-DEMO-00001",
        campaign_id="demo",
        request_id=uuid4(),
        changes=[
            FieldChange(field="representative", before=before, after=after),
            FieldChange(field="requested_eur", before="240000.00", after="200000.00"),
        ],
        dossier=dossier,
        amended_at=NOW,
    )
    text = json.dumps(await as_written(vault, event))
    for clear in (NAME, EMAIL, "Anne Dupont", "a.dupont@roubaix.example.fr"):
        assert clear not in text
    assert "200000.00" in text


async def test_each_address_of_a_mail_sent_is_sealed_under_its_own_person():
    vault = MemoryVault()
    event = NotificationSent(
        dossier_id=uuid4(),
        notification_id="n",
        template="acknowledgement",
        to=[EMAIL],
        cc=["instruction-aap@mildeca.example.gouv.fr"],
        message_id="<m@aap>",
        sent_at=NOW,
    )
    written = await as_written(vault, event)
    assert EMAIL not in json.dumps(written) and len(persons_in(written)) == 2
    vault.erase(EMAIL)
    reread = NotificationSent.model_validate(opened(written, await vault.keys(persons_in(written))))
    assert reread.to == [ERASED[Kind.email]]
    assert reread.cc == ["instruction-aap@mildeca.example.gouv.fr"]


async def test_a_shared_draft_s_contact_is_sealed():
    vault = MemoryVault()
    event = DraftShared(
        dossier_id=uuid4(),
        campaign_id="demo",
        siren="213186091",
        departement="59",
        applicant_name="Commune de Roubaix",
        contact_email=EMAIL,
        shared_at=NOW,
    )
    assert EMAIL not in json.dumps(await as_written(vault, event))


def a_message(author: str) -> MessagePosted:
    return MessagePosted(
        dossier_id=uuid4(),
        reference="AAP-DEMO-00001",
        campaign_id="demo",
        message_id=uuid4(),
        side="applicant",
        author=author,
        text="Nous joignons le budget détaillé demain.",
        posted_at=NOW,
    )


async def test_the_author_of_a_message_is_sealed_when_an_e_mail_and_matches_the_schema():
    vault = MemoryVault()
    wire = await as_written(vault, a_message(EMAIL))
    assert EMAIL not in json.dumps(wire)
    assert opened(wire, await vault.keys(persons_in(wire)))["author"] == EMAIL
    schema = json.loads((SCHEMAS / "MessagePosted.v2.json").read_text())
    jsonschema.validate(wire, schema)


async def test_an_author_who_is_no_e_mail_stays_in_clear_and_matches_the_schema():
    vault = MemoryVault()
    wire = await as_written(vault, a_message("agent-4021"))
    assert wire["author"] == "agent-4021"
    schema = json.loads((SCHEMAS / "MessagePosted.v2.json").read_text())
    jsonschema.validate(wire, schema)


async def test_the_hash_covers_the_ciphertext_and_still_holds_once_the_key_is_erased():
    vault = MemoryVault()
    event, data = await sealed_filing(vault)
    content = {
        "stream_id": str(event.dossier_id),
        "version": 1,
        "event_id": str(uuid4()),
        "event_type": ApplicationSubmitted.cloud_type(),
        "occurred_at": NOW.isoformat(),
        "data": data,
        "actor": None,
        "causation_id": None,
    }
    digest = hashchain.link(hashchain.GENESIS, **content)
    vault.erase(EMAIL)
    written = AuditEvent(
        service="applications",
        stream_id=content["stream_id"],
        version=1,
        event_id=content["event_id"],
        type="ApplicationSubmitted",
        cloud_type=content["event_type"],
        occurred_at=NOW,
        actor=None,
        causation_id=None,
        data=data,
        prev_hash=hashchain.GENESIS,
        hash=digest,
        keys=await vault.keys(persons_in(data)),
    )
    assert written.links()
    read = written.event()
    assert isinstance(read, ApplicationSubmitted)
    assert read.dossier.representative.name == ERASED[Kind.name]
