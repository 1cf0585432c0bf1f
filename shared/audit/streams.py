"""Each service audits its own store against what it published: `GET /audit/streams/{dossier}`.

The notifications service's audit trail checks the chains of the events *as published*; a
change made to a store after publication does not show there. Here every service recomputes
the chain of its own stream for the dossier, and compares its head with the head it published
on Kafka, which it learns by reading its own topic back (`published_heads`, a read model rebuilt
from Kafka like any other, never from the store): a change made after publication, even
re-hashed down the chain, is reported over HTTP.
"""

from typing import Any
from uuid import UUID

import asyncpg
from aiokafka.structs import ConsumerRecord
from fastapi import APIRouter

from shared.audit.chain import verify_chain
from shared.audit.events import AuditEvent
from shared.audit.files import file_breaks, named_file
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.deps import ActorDep, PoolDep
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import read_stream
from shared.kernel.openapi import api_router, errors
from shared.language.actors import Role, require_role
from shared.language.errors import NotFound

_HEAD = """
INSERT INTO published_heads (stream_id, version, hash, event_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT (stream_id) DO UPDATE
    SET version = excluded.version, hash = excluded.hash, event_id = excluded.event_id
    WHERE published_heads.version < excluded.version
"""

_PUBLISHED = "SELECT version, hash FROM published_heads WHERE stream_id = $1"

# At a version published, the hash the store holds there.
_AT = "SELECT hash FROM events WHERE stream_id = $1 AND version = $2"


class HeadsConsumer(Consumer):
    """Keeps, per stream, the last version published and its hash, from the records' headers
    (the event's place in its chain): the payload is never parsed."""

    def handles(self, envelope: Envelope) -> bool:
        return "aapstream" in envelope.extensions

    async def effect(
        self, conn: asyncpg.Connection, envelope: Envelope, record: ConsumerRecord
    ) -> None:
        chain = envelope.extensions
        await conn.execute(
            _HEAD, chain["aapstream"], int(chain["aapversion"]), chain["aaphash"], envelope.id
        )


class NothingStored(NotFound):
    """The service's store holds no event of the dossier, and it published none."""


def published_heads(service: str) -> Subscription:
    """The subscription of a service to its own topic, for the heads it published."""
    return Subscription(
        HeadsConsumer("published-heads", {}), services=[service], read_models=["published_heads"]
    )


async def audit_stream(conn: asyncpg.Connection, service: str, dossier_id: UUID) -> dict[str, Any]:
    """The stream's chain recomputed, its head, the head published, and whether they agree."""
    stored = await read_stream(conn, str(dossier_id))
    events = [AuditEvent.from_stored(service, s) for s in stored]
    breaks = verify_chain(events)
    files = await file_breaks(conn, service, stored)
    published = await conn.fetchrow(_PUBLISHED, str(dossier_id))
    head = {"version": stored[-1].version, "hash": stored[-1].hash} if stored else None
    agrees = True
    if published is not None:
        # The store may hold versions not published yet: its event at the version published
        # must be the one published.
        at = await conn.fetchval(_AT, str(dossier_id), published["version"])
        agrees = at == published["hash"]
    return {
        "service": service,
        "dossier_id": str(dossier_id),
        "checked": "the hash chain of this service's store for the dossier, recomputed, its "
        "event at the head published on Kafka compared with the one published, and the bytes "
        "of each file its events name compared with the SHA-256 they recorded",
        "store": {
            "head": head,
            "chain_verified": not breaks,
            "breaks": [b.as_json() for b in breaks],
        },
        "published": None if published is None else dict(published),
        "matches_published": agrees,
        "files": {
            "checked": sum(1 for s in stored if named_file(s.data) is not None),
            "breaks": [b.as_json() for b in files],
        },
        "verified": not breaks and agrees and not files,
    }


def stream_audit_router(service: str) -> APIRouter:
    """`GET /audit/streams/{dossier_id}`, for auditors, in every service."""
    router = api_router()

    @router.get(
        "/audit/streams/{dossier_id}", responses=errors(401, 403, 404, 422, 503), tags=["audit"]
    )
    async def audit_store(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> dict[str, Any]:
        """This service's store for the dossier: its chain recomputed and its head compared
        with the head published on Kafka. Auditors only."""
        require_role(actor, Role.auditor, to="audit a service's store")
        async with pool.acquire() as conn:
            answer = await audit_stream(conn, service, dossier_id)
        if answer["store"]["head"] is None and answer["published"] is None:
            raise NothingStored(f"{service} holds no event of dossier {dossier_id}")
        return answer

    return router
