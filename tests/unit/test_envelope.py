"""The CloudEvents envelope of our Kafka records, and the hash chain of a stream."""

import dataclasses
import json
from datetime import datetime
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.kernel.envelope import Envelope, MalformedEnvelope, unwrap, wrap
from shared.kernel.hashchain import GENESIS, link
from tests.factories import eligible_dossier

PARIS = ZoneInfo("Europe/Paris")
WHEN = datetime(2024, 4, 1, 10, 30, tzinfo=PARIS)
SOURCE = "urn:aap:services:applications"


def an_application() -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        submitted_at=WHEN,
        dossier=Dossier.model_validate(eligible_dossier()),
    )


def an_envelope(
    event: ApplicationSubmitted | None = None, event_id: UUID | None = None, **extensions: str
) -> Envelope:
    return wrap(
        event or an_application(),
        event_id=event_id or uuid4(),
        source=SOURCE,
        time=WHEN,
        extensions=extensions,
    )


def as_record(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(key, value.encode()) for key, value in headers.items()]


# --- wrap ----------------------------------------------------------------------------------


def test_wrapping_an_event_gives_cloudevents_headers():
    # given an event and its id
    event, event_id = an_application(), uuid4()
    # when it is wrapped
    headers = an_envelope(event, event_id).headers()
    # then the headers say what it is, in CloudEvents binary mode
    assert headers == {
        "ce_specversion": "1.0",
        "ce_id": str(event_id),
        "ce_source": SOURCE,
        "ce_type": "fr.gouv.mildeca.aap.ApplicationSubmitted.v3",
        "ce_subject": str(event.dossier_id),
        "ce_time": WHEN.isoformat(),
        "ce_dataschema": "urn:aap:schemas:events:ApplicationSubmitted:v3",
        "content-type": "application/json",
    }


def test_the_value_is_the_json_of_the_event_with_amounts_as_strings():
    document = json.loads(an_envelope().value())
    assert document["dossier"]["requested_eur"] == "160000.00"


def test_extensions_travel_as_extra_headers():
    headers = an_envelope(traceparent="00-abc-def-01").headers()
    assert headers["traceparent"] == "00-abc-def-01"


# --- unwrap --------------------------------------------------------------------------------


def test_unwrapping_a_wrapped_record_gives_back_the_same_envelope():
    envelope = an_envelope(traceparent="00-abc-def-01")
    assert unwrap(as_record(envelope.headers()), envelope.value()) == envelope


def test_the_unwrapped_envelope_gives_back_an_equal_event():
    event = an_application()
    envelope = an_envelope(event)
    assert unwrap(as_record(envelope.headers()), envelope.value()).event() == event


@pytest.mark.parametrize("header", ["ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"])
def test_a_record_missing_a_required_header_is_malformed(header):
    envelope = an_envelope()
    headers = envelope.headers()
    del headers[header]
    with pytest.raises(MalformedEnvelope, match=header):
        unwrap(as_record(headers), envelope.value())


def test_a_record_of_another_specversion_is_malformed():
    envelope = an_envelope()
    headers = {**envelope.headers(), "ce_specversion": "0.3"}
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(headers), envelope.value())


def test_a_record_without_specversion_is_malformed():
    envelope = an_envelope()
    headers = envelope.headers()
    del headers["ce_specversion"]
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(headers), envelope.value())


def test_a_record_whose_value_is_not_json_is_malformed():
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(an_envelope().headers()), b"not json")


def test_a_record_without_a_value_is_malformed():
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(an_envelope().headers()), None)


def test_a_record_whose_value_is_not_a_json_object_is_malformed():
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(an_envelope().headers()), b"[1, 2]")


def test_a_record_whose_id_is_not_a_uuid_is_malformed():
    envelope = an_envelope()
    headers = {**envelope.headers(), "ce_id": "42"}
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(headers), envelope.value())


def test_a_record_whose_time_is_unreadable_is_malformed():
    envelope = an_envelope()
    headers = {**envelope.headers(), "ce_time": "yesterday"}
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(headers), envelope.value())


def test_a_record_of_an_unknown_type_is_malformed():
    envelope = an_envelope()
    headers = {**envelope.headers(), "ce_type": "fr.gouv.mildeca.aap.ApplicationLost.v1"}
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(headers), envelope.value()).event()


def test_a_record_whose_payload_breaks_its_contract_is_malformed():
    envelope = an_envelope()
    with pytest.raises(MalformedEnvelope):
        unwrap(as_record(envelope.headers()), b'{"dossier_id": "not-a-uuid"}').event()


# --- hash chain ----------------------------------------------------------------------------

LINK = {
    "stream_id": "6f1c2d3e-0000-4000-8000-000000000001",
    "version": 1,
    "event_id": "6f1c2d3e-0000-4000-8000-000000000002",
    "event_type": "fr.gouv.mildeca.aap.ApplicationSubmitted.v1",
    "occurred_at": "2024-04-01T10:30:00+02:00",
    "data": {"reference": "AAP-2024-00042", "requested_eur": "160000.00"},
}


def test_a_link_is_deterministic():
    assert link(GENESIS, **LINK) == link(GENESIS, **LINK)


def test_a_link_is_a_sha256_hex_digest():
    digest = link(GENESIS, **LINK)
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_a_link_does_not_depend_on_the_order_of_the_datas_keys():
    reordered = {**LINK, "data": dict(reversed(list(LINK["data"].items())))}
    assert link(GENESIS, **reordered) == link(GENESIS, **LINK)


@pytest.mark.parametrize(
    "field, other",
    [
        ("stream_id", "6f1c2d3e-0000-4000-8000-000000000009"),
        ("version", 2),
        ("event_id", "6f1c2d3e-0000-4000-8000-000000000009"),
        ("event_type", "fr.gouv.mildeca.aap.ApplicationWithdrawn.v1"),
        ("occurred_at", "2024-04-01T10:30:00.000001+02:00"),
        ("data", {"reference": "AAP-2024-00042", "requested_eur": "160000.01"}),
    ],
)
def test_a_link_changes_when_any_field_changes(field, other):
    assert link(GENESIS, **{**LINK, field: other}) != link(GENESIS, **LINK)


def test_a_link_changes_when_the_previous_hash_changes():
    previous = link(GENESIS, **LINK)
    assert link(previous, **{**LINK, "version": 2}) != link(GENESIS, **{**LINK, "version": 2})


def test_cloudevents_extensions_travel_as_ce_headers_and_come_back():
    envelope = an_envelope(traceparent="00-abc-def-01", aapactor="president:pdt", aapversion="5")
    headers = envelope.headers()
    assert headers["ce_aapactor"] == "president:pdt" and headers["ce_aapversion"] == "5"
    assert unwrap(as_record(headers), envelope.value()).extensions == envelope.extensions


def test_an_envelope_read_from_a_record_is_the_envelope_made_of_the_same_fields():
    made = an_envelope(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    fields = {f.name: getattr(made, f.name) for f in dataclasses.fields(Envelope)}
    read = Envelope.read(**fields)
    assert read == made and hash(read.id) == hash(made.id)
    assert list(vars(read)) == [f.name for f in dataclasses.fields(Envelope)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.type = "other"  # type: ignore[misc]
