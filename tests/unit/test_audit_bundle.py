"""An exported bundle verifies offline, and one changed byte anywhere in an event breaks it."""

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.audit import export_bundle, verify_bundle
from tests.unit.test_audit_history import a_whole_life

EXPORTED_AT = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def a_bundle() -> dict[str, Any]:
    life = a_whole_life()
    # As a file: what the auditor receives is JSON text.
    return json.loads(json.dumps(export_bundle(life.events, life.dossier_id, EXPORTED_AT)))


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string or number in a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from leaves(inner, (*path, index))
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield path


def one_byte_changed(value: str | int) -> str | int:
    if isinstance(value, int):
        return value + 1
    last = value[-1] if value else "x"
    return value[:-1] + ("0" if last != "0" else "1")


def changed_at(bundle: dict[str, Any], event: int, path: tuple[Any, ...]) -> dict[str, Any]:
    altered = copy.deepcopy(bundle)
    target = altered["events"][event]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = one_byte_changed(target[path[-1]])
    return altered


def test_an_exported_bundle_verifies_offline():
    assert verify_bundle(a_bundle()) == []


def test_a_bundle_holds_each_streams_head_and_a_digest():
    bundle = a_bundle()
    assert {s["service"] for s in bundle["streams"]} == {
        "applications",
        "selection",
        "payments",
        "notifications",
    }
    assert bundle["digest"]["algorithm"] == "sha256" and len(bundle["digest"]["value"]) == 64


def test_one_changed_byte_anywhere_in_an_events_data_breaks_the_bundle_where_it_was_changed():
    bundle = a_bundle()
    checked = 0
    for index, event in enumerate(bundle["events"]):
        for path in leaves(event["data"]):
            breaks = verify_bundle(changed_at(bundle, index, ("data", *path)))
            assert {b.what for b in breaks} >= {"digest", "changed"}, (event["type"], path)
            assert (event["service"], event["stream_id"], event["version"], "changed") in {
                (b.service, b.stream_id, b.version, b.what) for b in breaks
            }, (event["type"], path)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    "field",
    [
        "event_id",
        "cloud_type",
        "type",
        "occurred_at",
        "actor",
        "prev_hash",
        "hash",
        "version",
        "service",
        "stream_id",
    ],
)
def test_one_changed_byte_in_any_field_of_an_event_breaks_the_bundle_and_is_located(field):
    bundle = a_bundle()
    index = next(i for i, e in enumerate(bundle["events"]) if e["type"] == "SelectionDecided")
    event = bundle["events"][index]
    breaks = verify_bundle(changed_at(bundle, index, (field,)))
    assert "digest" in {b.what for b in breaks}
    where = {(b.stream_id, b.version) for b in breaks}
    assert (event["stream_id"], event["version"]) in where or (
        one_byte_changed(event["stream_id"]),
        event["version"],
    ) in where, breaks


def position(bundle: dict[str, Any], service: str, which: str) -> int:
    """The index in the bundle of the service's middle or last event."""
    indexes = [i for i, e in enumerate(bundle["events"]) if e["service"] == service]
    return indexes[len(indexes) // 2] if which == "middle" else indexes[-1]


# The last one is found by the stream's declared head: the rest of the chain is intact.
@pytest.mark.parametrize("which", ["middle", "last"])
def test_a_removed_event_is_located(which):
    bundle = a_bundle()
    removed = bundle["events"].pop(position(bundle, "payments", which))
    assert ("payments", removed["version"], "missing") in {
        (b.service, b.version, b.what) for b in verify_bundle(bundle)
    }


def test_a_changed_digest_alone_breaks_the_bundle():
    bundle = a_bundle()
    bundle["digest"]["value"] = "0" * 64
    assert [b.what for b in verify_bundle(bundle)] == ["digest"]


@pytest.mark.parametrize("document", [None, [], {"format": "something else"}, "text"])
def test_what_is_not_a_bundle_is_refused(document):
    assert [b.what for b in verify_bundle(document)] == ["unreadable"]


def test_an_unreadable_event_is_located():
    bundle = a_bundle()
    bundle["events"][0]["occurred_at"] = "yesterday"
    assert ("applications", 1, "unreadable") in {
        (b.service, b.version, b.what) for b in verify_bundle(bundle)
    }
