"""Old versions of an event stay readable: upcast on read to the latest version."""

from datetime import datetime
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from shared.contracts import UnknownEventVersion, Upcaster, read_event, registered_types, upcast
from shared.contracts.notifications import NotificationFailed, NotificationSent, NotificationSentV1
from shared.contracts.upcasting import missing_upcasters, versions_of
from shared.kernel.envelope import MalformedEnvelope, unwrap, wrap

WHEN = datetime(2024, 6, 20, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
V1 = NotificationSentV1.cloud_type()
V4 = "fr.gouv.mildeca.aap.NotificationSent.v4"


def a_v1(**changes: Any) -> NotificationSentV1:
    return NotificationSentV1(
        dossier_id=uuid4(),
        notification_id="n-1",
        template="convention_signed",
        recipients=["maire@roubaix.example.fr", "pref-59@example.gouv.fr"],
        message_id="<m@aap>",
        sent_at=WHEN,
    ).model_copy(update=changes)


def as_record(event: NotificationSentV1) -> tuple[list[tuple[str, bytes]], bytes]:
    """The Kafka record an older notifications service wrote."""
    envelope = wrap(event, event_id=uuid4(), source="/aap/notifications", time=WHEN)
    return [(k, v.encode()) for k, v in envelope.headers().items()], envelope.value()


def test_a_version_1_notification_reads_as_an_equal_version_2_with_every_address_in_to():
    # given a NotificationSent as version 1 wrote it
    v1 = a_v1()
    # when it is read
    event = read_event(V1, v1.model_dump(mode="json"))
    # then it is the latest version, with the same facts: every address in To, none in Cc
    assert event == NotificationSent(
        dossier_id=v1.dossier_id,
        notification_id="n-1",
        template="convention_signed",
        to=v1.recipients,
        cc=[],
        message_id="<m@aap>",
        sent_at=WHEN,
    )
    assert event.recipients == v1.recipients


def test_upcasting_names_the_latest_version_and_leaves_the_written_payload_alone():
    written = a_v1().model_dump(mode="json")
    kept = dict(written)
    cloud_type, data = upcast(V1, written)
    assert cloud_type == NotificationSent.cloud_type() == "fr.gouv.mildeca.aap.NotificationSent.v3"
    assert written == kept and "recipients" not in data


def test_the_latest_version_and_foreign_types_pass_unchanged():
    latest = {"any": "payload"}
    assert upcast(NotificationSent.cloud_type(), latest) == (NotificationSent.cloud_type(), latest)
    assert upcast("com.example.Other.v7", latest) == ("com.example.Other.v7", latest)


def test_a_version_newer_than_the_code_is_refused_naming_the_versions_it_reads():
    with pytest.raises(
        UnknownEventVersion,
        match=r"NotificationSent\.v4: this code reads "
        r"NotificationSent v1 to v3",
    ):
        read_event(V4, {"dossier_id": str(uuid4())})


def test_a_record_in_an_older_version_unwraps_in_the_latest_one():
    # given the record of a version 1 event
    v1 = a_v1()
    headers, value = as_record(v1)
    # when a consumer unwraps it
    envelope = unwrap(headers, value)
    # then its type, schema and payload are those of version 2: `Consumer.handles` matches it
    assert envelope.type == NotificationSent.cloud_type()
    assert envelope.dataschema == "urn:aap:schemas:events:NotificationSent:v3"
    assert envelope.event() == read_event(V1, v1.model_dump(mode="json"))


def test_a_record_unwrapped_as_written_keeps_its_version_for_its_hash():
    headers, value = as_record(a_v1())
    envelope = unwrap(headers, value, as_written=True)
    assert envelope.type == V1 and "recipients" in envelope.data


def test_a_record_in_a_version_newer_than_the_code_is_malformed_and_says_why():
    headers, value = as_record(a_v1())
    newer = [(k, V4.encode() if k == "ce_type" else v) for k, v in headers]
    with pytest.raises(MalformedEnvelope, match="a newer version needs a newer consumer"):
        unwrap(newer, value)


def test_an_old_payload_its_upcaster_cannot_read_is_malformed():
    headers, value = as_record(a_v1())
    with pytest.raises(MalformedEnvelope, match="cannot upcast"):
        unwrap(headers, value.replace(b'"recipients"', b'"addresses"'))


def test_every_older_version_of_an_event_type_has_its_upcaster_and_none_is_skipped():
    assert missing_upcasters() == []
    for model in registered_types().values():
        assert [m.version for m in versions_of(model)] == list(
            range(1, len(versions_of(model)) + 1)
        )


def test_an_upcaster_goes_from_one_version_to_the_next_only():
    with pytest.raises(ValueError, match="from one version to the next"):
        Upcaster(NotificationSentV1, NotificationFailed, dict)
