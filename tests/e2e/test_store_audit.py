"""An event altered in a store after it was published: the published trail still holds and says
that is all it checked; the service's own audit of its store reports the change, over HTTP,
whether the event's hash was left as it was or recomputed down the chain."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from typing import Any

import asyncpg

from shared.kernel import hashchain
from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey
from tests.helpers import wait_for


@asynccontextmanager
async def altered(platform: Platform, dossier_id: str, *, rehash: bool) -> AsyncIterator[None]:
    """The applications' ApplicationSubmitted of the dossier rewritten (its amount requested),
    as someone with the database's keys would; put back as it was afterwards."""
    conn = await asyncpg.connect(platform.settings.admin_dsn("applications"))
    row = await conn.fetchrow(
        "SELECT * FROM events WHERE stream_id = $1 AND version = 1", dossier_id
    )
    data = json.loads(row["data"])
    data["requested_eur"] = "239999.00"
    digest = row["hash"]
    if rehash:
        metadata = json.loads(row["metadata"])
        digest = hashchain.link(
            row["prev_hash"],
            stream_id=row["stream_id"],
            version=1,
            event_id=str(row["event_id"]),
            event_type=row["event_type"],
            occurred_at=row["occurred_at"].astimezone(UTC).isoformat(),
            data=data,
            actor=metadata.get("actor"),
            causation_id=metadata.get("causation_id"),
        )
    rewrite = "UPDATE events SET data = $3::jsonb, hash = $4 WHERE stream_id = $1 AND version = $2"
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
            await conn.execute(rewrite, dossier_id, 1, json.dumps(data), digest)
            await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
        yield
    finally:
        async with conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
            await conn.execute(rewrite, dossier_id, 1, row["data"], row["hash"])
            await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
        await conn.close()


async def audit(j: Journey, service: str, path: str) -> dict[str, Any]:
    answer = await j.call(service, "GET", path, Role.auditor)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def published(j: Journey) -> Journey:
    """The filing published, and heard back by applications and by the audit trail."""
    await j.file()
    await j.checked()

    async def heard() -> bool:
        store = await audit(j, "applications", f"/audit/streams/{j.dossier_id}")
        trail = await j.call(
            "notifications", "GET", f"/audit/dossiers/{j.dossier_id}", Role.auditor
        )
        return store["published"] is not None and trail.status_code == 200

    await wait_for(heard, what="the filing published and read back")
    return j


async def test_a_stored_event_altered_after_publication_is_reported_by_its_services_audit(
    platform: Platform,
):
    j = await published(Journey(platform))
    intact = await audit(j, "applications", f"/audit/streams/{j.dossier_id}")
    assert intact["verified"] is True
    async with altered(platform, j.dossier_id, rehash=False):
        trail = await audit(j, "notifications", f"/audit/dossiers/{j.dossier_id}")
        store = await audit(j, "applications", f"/audit/streams/{j.dossier_id}")
    # the trail of what was published still holds, and says that is what it checked
    assert trail["published_trail"]["verified"] is True
    assert "as they were published" in trail["published_trail"]["checked"]
    # the store's own audit finds the event that no longer matches its hash
    assert store["verified"] is False and store["store"]["chain_verified"] is False
    assert [(b["version"], b["what"]) for b in store["store"]["breaks"]] == [(1, "changed")]


async def test_a_stored_event_altered_and_rehashed_no_longer_matches_what_was_published(
    platform: Platform,
):
    j = await published(Journey(platform))
    async with altered(platform, j.dossier_id, rehash=True):
        store = await audit(j, "applications", f"/audit/streams/{j.dossier_id}")
    # the store's chain holds again, but its head is not the one published on Kafka
    assert store["store"]["chain_verified"] is True
    assert store["matches_published"] is False and store["verified"] is False
    assert store["published"]["hash"] != store["store"]["head"]["hash"]


async def test_only_an_auditor_audits_a_store(platform: Platform):
    j = await published(Journey(platform))
    answer = await j.call("applications", "GET", f"/audit/streams/{j.dossier_id}", Role.instructor)
    assert answer.status_code == 403
