"""Tamper evidence: a stream's chain, recomputed, says where and how it was altered."""

from dataclasses import replace

from shared.audit import AuditEvent, verify_chain, verify_streams
from shared.kernel import hashchain
from tests.unit.test_audit_history import a_whole_life


def selection_stream() -> list[AuditEvent]:
    return [e for e in a_whole_life().events if e.service == "selection"]


def rehashed(e: AuditEvent, with_actor: bool = True) -> str:
    who = {"actor": e.actor, "causation_id": e.causation_id} if with_actor else {}
    return hashchain.link(
        e.prev_hash,
        stream_id=e.stream_id,
        version=e.version,
        event_id=str(e.event_id),
        event_type=e.cloud_type,
        occurred_at=e.occurred_at.isoformat(),
        data=e.data,
        **who,
    )


def test_an_untouched_history_has_no_break():
    assert verify_streams(a_whole_life().events) == []


def test_a_changed_byte_in_an_events_data_is_located():
    stream = selection_stream()
    decided = next(e for e in stream if e.type == "SelectionDecided")
    stream[stream.index(decided)] = replace(
        decided, data={**decided.data, "granted_eur": "220000.00"}
    )
    [found] = verify_chain(stream)
    assert (found.service, found.stream_id, found.version, found.what) == (
        "selection",
        decided.stream_id,
        decided.version,
        "changed",
    )


def test_a_changed_actor_is_located():
    stream = selection_stream()
    stream[3] = replace(stream[3], actor="president:someone-else")
    assert [(b.version, b.what) for b in verify_chain(stream)] == [(4, "changed")]


def test_a_changed_time_is_located():
    stream = selection_stream()
    stream[2] = replace(stream[2], occurred_at=stream[2].occurred_at.replace(microsecond=1))
    assert [(b.version, b.what) for b in verify_chain(stream)] == [(3, "changed")]


def test_an_event_rewritten_with_a_fresh_hash_is_located_by_its_successor():
    stream = selection_stream()
    forged = replace(stream[3], data={**stream[3].data, "motivation": "autre"})
    stream[3] = replace(forged, hash=rehashed(forged))  # the forger recomputes its hash...
    breaks = verify_chain(stream)  # ...but the next event is chained to the original one
    assert [(b.version, b.what) for b in breaks] == [(4, "changed")]
    assert "re-hashed" in breaks[0].detail


def test_a_deleted_event_is_located():
    stream = selection_stream()
    del stream[4]
    assert [(b.version, b.what) for b in verify_chain(stream)] == [(5, "missing")]


def test_a_deleted_first_event_is_located():
    assert [(b.version, b.what) for b in verify_chain(selection_stream()[1:])] == [(1, "missing")]


def test_two_swapped_events_are_located_each_at_its_new_place():
    stream = selection_stream()
    a, b = stream[3], stream[4]
    stream[3], stream[4] = replace(b, version=a.version), replace(a, version=b.version)
    breaks = verify_chain(stream)
    assert [(x.version, x.what) for x in breaks] == [(4, "reordered"), (5, "reordered")]
    assert f"was written as version {b.version}" in breaks[0].detail


def test_a_stream_that_does_not_start_at_the_genesis_is_located():
    stream = selection_stream()
    stream[0] = replace(stream[0], prev_hash="1" * 64)
    assert [(b.version, b.what) for b in verify_chain(stream)] == [(1, "changed")]


def test_events_recorded_before_the_actor_was_chained_still_verify():
    first = selection_stream()[0]
    assert verify_chain([replace(first, hash=rehashed(first, with_actor=False))]) == []


def test_the_actor_of_an_event_chained_with_it_cannot_be_dropped():
    first = selection_stream()[0]
    assert [b.what for b in verify_chain([replace(first, actor=None, causation_id=None)])] == [
        "changed"
    ]
