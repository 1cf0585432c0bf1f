"""The auditor's trail in notifications, fed what the outboxes publish: the same history, the
same state and the same chains as the event stores give."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord

from services.notifications.audit_trail import audit_trail, replay
from shared import audit
from shared.contracts.applications import ApplicationWithdrawn
from shared.contracts.notifications import NotificationSentV1
from shared.contracts.selection import GrantReleased
from shared.kernel import topics
from shared.kernel.envelope import unwrap
from shared.kernel.eventstore import EventStore, head_hash
from shared.language.campaigns import Campaign, load_campaigns
from shared.language.errors import NotFound
from tests.helpers import outbox_record
from tests.integration.test_audit import Pools, pools, recorded, settings  # noqa: F401 (fixtures)
from tests.unit.test_audit_history import DECIDED, SECOND, Life, a_whole_life


@pytest.fixture(scope="module")
async def trail_pool(pools: Pools) -> AsyncIterator[asyncpg.Pool]:
    yield pools["notifications"]


def campaign(campaign_id: str) -> dict[str, Campaign]:
    return {campaign_id: load_campaigns()["mildeca-2024"].model_copy(update={"id": campaign_id})}


async def published(pools: Pools, dossier: UUID) -> list[ConsumerRecord]:
    """What the four outboxes publish for the dossier, as Kafka records."""
    records = []
    for _service, pool in pools.items():
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM outbox WHERE key = $1 ORDER BY position", str(dossier)
            )
        records.extend(outbox_record(row) for row in rows)
    return records


async def followed(pool: asyncpg.Pool, records: list[ConsumerRecord]) -> list[bool]:
    consumer = audit_trail().consumer
    return [await consumer.apply(pool, unwrap(r.headers, r.value), r) for r in records]


async def test_the_trail_replays_a_dossier_as_the_stores_do(settings, pools, trail_pool):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    await followed(trail_pool, await published(pools, life.dossier_id))
    campaigns = campaign(life.events[0].data["campaign_id"])
    [edition] = campaigns.values()

    async with trail_pool.acquire() as conn:
        now = await replay(conn, campaigns, life.dossier_id, datetime.now(UTC))
        then = await replay(conn, campaigns, life.dossier_id, DECIDED - SECOND)

    from_stores = await audit.history(pools, life.dossier_id)
    at = datetime.fromisoformat(now["as_of"])
    envelope = await audit.campaign_envelope(
        pools["selection"], edition.id, edition.envelope_eur, at
    )
    assert now["events"] == [e.as_json() for e in from_stores]
    assert now["state"] == audit.to_json(audit.as_of(from_stores, at, envelope))
    assert (now["published_trail"]["verified"], now["published_trail"]["breaks"]) == (True, [])
    assert now["state"]["envelope_remaining_eur"] == "1880000.00"
    # What the President saw a second before deciding: the assessment, the whole envelope.
    assert then["events"][-1]["type"] == "CommitteeAssessmentRecorded"
    assert (
        then["state"]["decision"] is None
        and then["state"]["assessment"]["proposed_eur"] == "120000.00"
    )
    assert then["state"]["envelope_remaining_eur"] == "2000000.00"


def a_life_withdrawn_as_it_was_selected(campaign_id: str) -> Life:
    """Selected for 120,000.00, withdrawn at the same instant; selection gives the grant back."""
    life = a_whole_life(campaign=campaign_id)
    life.events = [
        e for e in life.events if e.occurred_at <= DECIDED and e.service != "notifications"
    ]
    ids = {"dossier_id": life.dossier_id, "reference": "AAP-2024-00042", "campaign_id": campaign_id}
    withdrawn = life.record(
        "applications",
        ApplicationWithdrawn(
            **ids, withdrawn_at=DECIDED, reason="Le conseil municipal a retiré le projet."
        ),
        DECIDED,
        "applicant:213186091:maire",
    )
    life.record(
        "selection",
        GrantReleased(**ids, released_eur=Decimal("120000.00"), released_at=DECIDED + SECOND),
        DECIDED + SECOND,
        "system:withdrawal",
        withdrawn,
    )
    return life


async def test_a_grant_given_back_returns_to_the_envelope_in_the_trail_as_in_the_stores(
    settings, pools, trail_pool
):
    life = a_life_withdrawn_as_it_was_selected(f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    await followed(trail_pool, await published(pools, life.dossier_id))
    campaigns = campaign(life.events[0].data["campaign_id"])
    [edition] = campaigns.values()

    for at, remaining in [(DECIDED, "1880000.00"), (DECIDED + SECOND, "2000000.00")]:
        async with trail_pool.acquire() as conn:
            state = (await replay(conn, campaigns, life.dossier_id, at))["state"]
        envelope = await audit.campaign_envelope(
            pools["selection"], edition.id, edition.envelope_eur, at
        )
        assert state["envelope_remaining_eur"] == f"{envelope.remaining(at):.2f}" == remaining
    assert state["decision"]["released_eur"] == "120000.00"


async def test_a_redelivered_record_is_kept_once(settings, pools, trail_pool):
    life = a_whole_life(campaign=f"c-{uuid4().hex[:8]}")
    await recorded(settings, pools, life)
    records = await published(pools, life.dossier_id)
    assert all(await followed(trail_pool, records))
    assert not any(await followed(trail_pool, records))
    async with trail_pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM audit_trail WHERE dossier_id = $1", life.dossier_id
        ) == len(life.events)


async def test_an_event_written_in_an_older_version_is_kept_as_written_and_its_chain_holds(
    settings, pools, trail_pool
):
    dossier = uuid4()
    store = EventStore(
        source="/aap/notifications",
        topic=topics.events_topic(settings.topic_prefix, "notifications"),
    )
    old = NotificationSentV1(
        dossier_id=dossier,
        notification_id="n1",
        template="decision",
        recipients=["maire@roubaix.example.fr"],
        message_id="<m1>",
        sent_at=DECIDED,
    )
    async with pools["notifications"].acquire() as conn, conn.transaction():
        await store.append(
            conn,
            str(dossier),
            0,
            [old],
            prev_hash=head_hash([]),
            now=DECIDED,
            metadata={"actor": "system:mailer"},
        )
    await followed(trail_pool, await published(pools, dossier))
    async with trail_pool.acquire() as conn:
        answer = await replay(conn, {}, dossier, datetime.now(UTC))
    assert answer["published_trail"]["verified"] is True
    assert answer["events"][0]["cloud_type"].endswith("NotificationSent.v1")
    assert answer["events"][0]["data"]["recipients"] == ["maire@roubaix.example.fr"]


async def test_a_dossier_the_trail_never_saw_is_not_found(trail_pool):
    async with trail_pool.acquire() as conn:
        with pytest.raises(NotFound):
            await replay(conn, {}, uuid4(), datetime.now(UTC))
