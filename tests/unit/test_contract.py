"""The published contract: the committed JSON Schemas and AsyncAPI documents are those of the
code."""

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from shared.contracts import deadlines, registered_types
from shared.contracts.applications import ApplicationWithdrawn
from shared.contracts.publishers import PUBLISHED_BY, in_the_log
from shared.contracts.schemas import event_schemas
from shared.kernel import topics
from shared.kernel.asyncapi import documents, headers_schema
from shared.kernel.envelope import wrap
from shared.kernel.runtime import ServiceSpec

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMAS, ASYNCAPI = DOCS / "schemas" / "events", DOCS / "asyncapi"


def specs() -> dict[str, ServiceSpec]:
    return {
        name: importlib.import_module(f"services.{name}.main").spec() for name in topics.SERVICES
    }


def test_every_event_type_has_its_committed_schema_and_no_other():
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(event_schemas())


def test_a_change_of_contract_is_never_silent():
    for name, text in event_schemas().items():
        assert (SCHEMAS / name).read_text() == text, f"{name} changed: run `aap schemas` and review"


def test_every_version_of_an_event_type_keeps_its_schema():
    assert {"NotificationSent.v1.json", "NotificationSent.v2.json"} <= set(event_schemas())


def test_every_service_has_its_committed_asyncapi_document_and_no_other():
    assert sorted(p.name for p in ASYNCAPI.glob("*.json")) == sorted(
        f"{s}.json" for s in topics.SERVICES
    )


def test_a_change_of_a_service_s_topics_or_consumers_is_never_silent():
    for name, text in documents(specs()).items():
        assert (ASYNCAPI / name).read_text() == text, (
            f"{name} changed: run `aap asyncapi` and review"
        )


def test_every_event_type_is_published_by_exactly_one_service_but_the_shared_deadlines():
    contract = {
        t for t, m in registered_types().items() if m.__module__.startswith("shared.contracts.")
    }
    shared = {m.cloud_type() for m in deadlines.EVENTS}  # by each service owning a deadline
    published = [m.cloud_type() for service in PUBLISHED_BY for m in in_the_log(service)]
    assert sorted(t for t in published if t not in shared) == sorted(contract - shared)
    assert shared <= set(published)
    assert list(PUBLISHED_BY) == list(topics.SERVICES)


def test_a_service_s_document_lists_every_event_it_publishes_with_its_payload_and_headers():
    doc = json.loads((ASYNCAPI / "notifications.json").read_text())
    channel = doc["channels"]["aap.notifications.events"]
    assert channel["address"] == "aap.notifications.events"
    assert list(channel["messages"]) == [
        "NotificationSent.v1",
        "NotificationSent.v2",
        "NotificationSent.v3",
        "NotificationFailed.v1",
    ]
    message = doc["components"]["messages"]["NotificationSent.v2"]
    assert message["payload"] == {"$ref": "#/components/schemas/NotificationSent.v2"}
    assert message["headers"]["allOf"][1]["properties"]["ce_type"] == {
        "const": "fr.gouv.mildeca.aap.NotificationSent.v2"
    }
    assert doc["operations"]["aap.notifications.events"]["action"] == "send"


def test_a_service_s_document_lists_the_topics_each_of_its_consumer_groups_reads():
    doc = json.loads((ASYNCAPI / "payments.json").read_text())
    reads = {
        (
            op["bindings"]["kafka"]["groupId"]["enum"][0],
            doc["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"],
        )
        for op in doc["operations"].values()
        if op["action"] == "receive"
    }
    assert ("aap.payments.commitments", "aap.selection.events") in reads
    assert ("aap.payments.dossiers", "aap.payments.events") in reads


def test_every_reference_of_a_document_resolves():
    for path in ASYNCAPI.glob("*.json"):
        doc = json.loads(path.read_text())
        for ref in references(doc):
            target: Any = doc
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]  # KeyError: a dangling reference


def test_the_documented_headers_are_those_every_event_carries():
    envelope = wrap(
        ApplicationWithdrawn(
            dossier_id=uuid4(),
            reference="AAP-2024-00001",
            campaign_id="demo",
            withdrawn_at=datetime.now(UTC),
            reason="x",
        ),
        event_id=uuid4(),
        source="/aap/applications",
        time=datetime.now(UTC),
    )
    assert sorted(headers_schema()["required"]) == sorted(envelope.headers())


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []
