"""The auditor's trail: every event of every service as it was published, and its replay.

Notifications already follows every topic; this projection keeps each record as it was
published (CloudEvents headers with the event's place in its chain, the payload as
written, topic/partition/offset), so that the auditor's route replays a dossier and checks
its chains without reaching into the other services' databases.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka.structs import ConsumerRecord

from services.notifications.errors import NothingInTheTrail
from shared import audit
from shared.audit import AuditEvent
from shared.audit.events import with_keys
from shared.contracts import DomainEvent, registered_types
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope, unwrap
from shared.language.campaigns import Campaign
from shared.personal.vault import Vault

SERVICES = ["applications", "selection", "payments", "notifications"]

_KEEP = """
INSERT INTO audit_trail (event_id, dossier_id, occurred_at, event_type, headers, value, topic,
                         kafka_partition, kafka_offset)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9)
ON CONFLICT (event_id) DO NOTHING
"""

_GRANT = """
INSERT INTO campaign_grants (event_id, campaign_id, occurred_at, granted_eur)
VALUES ($1, $2, $3, $4)
ON CONFLICT (event_id) DO NOTHING
"""

# A range of the index (dossier_id, occurred_at): never a scan of the trail.
_DOSSIER = "SELECT headers, value FROM audit_trail WHERE dossier_id = $1 ORDER BY occurred_at"

_GRANTS = """
SELECT occurred_at, granted_eur FROM campaign_grants WHERE campaign_id = $1 AND occurred_at <= $2
"""


class TrailConsumer(Consumer):
    """Keeps the record as written: an upcast event would no longer match its hash."""

    async def effect(
        self, conn: asyncpg.Connection, envelope: Envelope, record: ConsumerRecord
    ) -> None:
        # After the kernel's tracking row (exactly once), this record's own effect; the event
        # itself is never parsed: the trail keeps it as it came.
        await _keep(conn, record)


async def _keep(conn: asyncpg.Connection, record: ConsumerRecord) -> None:
    written = unwrap(record.headers, record.value, as_written=True)
    headers = {key: raw.decode("utf-8", "replace") for key, raw in record.headers}
    await conn.execute(
        _KEEP,
        written.id,
        UUID(written.subject),
        written.time,
        written.type,
        json.dumps(headers),
        json.dumps(written.data),
        record.topic,
        record.partition,
        record.offset,
    )
    event = AuditEvent.from_envelope(written)
    if event.type == "SelectionDecided":
        await conn.execute(
            _GRANT,
            written.id,
            str(event.data["campaign_id"]),
            written.time,
            Decimal(str(event.data["granted_eur"])),
        )
    elif event.type == "GrantReleased":  # given back to the envelope
        await conn.execute(
            _GRANT,
            written.id,
            str(event.data["campaign_id"]),
            written.time,
            -Decimal(str(event.data["released_eur"])),
        )


def audit_trail() -> Subscription:
    every_type = dict.fromkeys(registered_types().values(), _ignored)
    return Subscription(
        TrailConsumer("audit-trail", every_type),
        services=SERVICES,
        read_models=["audit_trail", "campaign_grants"],
    )


async def _ignored(conn: asyncpg.Connection, event: DomainEvent, envelope: Envelope) -> None:
    """Never called: TrailConsumer keeps the record itself."""


async def trail(
    conn: asyncpg.Connection, dossier_id: UUID, vault: Vault | None = None
) -> list[AuditEvent]:
    """The dossier's events as published; with the vault, able to read the people they name
    (the documents name the representative)."""
    rows = await conn.fetch(_DOSSIER, dossier_id)
    published = [
        unwrap(
            [(k, v.encode()) for k, v in json.loads(r["headers"]).items()],
            r["value"].encode(),
            as_written=True,
        )
        for r in rows
    ]
    return await with_keys(vault, audit.ordered(AuditEvent.from_envelope(e) for e in published))


async def replay(
    conn: asyncpg.Connection,
    campaigns: Mapping[str, Campaign],
    dossier_id: UUID,
    at: datetime,
    vault: Vault | None = None,
) -> dict[str, Any]:
    """The dossier's history up to `at`, its state then, and whether its chains hold; with the
    vault, the people it names read (the hashes cover them sealed, as the bundle has them)."""
    streams: dict[tuple[str, str], list[AuditEvent]] = {}
    for event in await trail(conn, dossier_id, vault):
        streams.setdefault((event.service, event.stream_id), []).append(event)
    if not streams:
        raise NothingInTheTrail(
            f"the audit trail holds no event of dossier {dossier_id} (yet: it follows the log)"
        )
    events = audit.ordered(e for stream in streams.values() for e in audit.until(stream, at))
    envelope = None
    campaign = campaigns.get(audit.campaign_of(events) or "")
    if campaign is not None:
        rows = await conn.fetch(_GRANTS, campaign.id, at)
        envelope = audit.CampaignEnvelope(
            campaign.id,
            campaign.envelope_eur,
            tuple(audit.Grant(r["occurred_at"], r["granted_eur"]) for r in rows),
        )
    breaks = audit.verify_streams(events)
    heads = {
        f"{service}/{stream}": {"version": s[-1].version, "hash": s[-1].hash}
        for (service, stream), s in streams.items()
    }
    return {
        "dossier_id": str(dossier_id),
        "as_of": at.isoformat(),
        "events": [e.as_read() for e in events],
        "state": audit.to_json(audit.as_of(events, at, envelope)),
        # What this route checks: the events as they were published, not the stores. Each
        # service checks its own store against what it published: GET /audit/streams/{id}.
        "published_trail": {
            "checked": "the hash chains of the dossier's events as they were published on "
            "Kafka (the stores are checked by each service: GET /audit/streams/{dossier_id})",
            "verified": not breaks,
            "breaks": [b.as_json() for b in breaks],
            "heads": heads,
        },
    }


async def bundle(
    conn: asyncpg.Connection, dossier_id: UUID, at: datetime, now: datetime
) -> dict[str, Any]:
    """The dossier's history as published, up to `at`, as a bundle `aap audit check` verifies
    offline (its digest, every link of its chains, every stream's head)."""
    events = [e for e in await trail(conn, dossier_id) if e.occurred_at <= at]
    if not events:
        raise NothingInTheTrail(
            f"the audit trail holds no event of dossier {dossier_id} (yet: it follows the log)"
        )
    return audit.export_bundle(events, dossier_id, now)
