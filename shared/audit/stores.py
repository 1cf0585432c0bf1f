"""The services' event stores as the auditor's source of truth: a dossier's history, every chain.

A dossier's stream is a range of the primary key (stream_id, version) in each store; a
whole store is walked in key order by chunks; the grants of a campaign up to an instant are
a range of the index (event_type, occurred_at). No query scans the log for one dossier.
"""

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from itertools import takewhile
from uuid import UUID

import asyncpg

from shared.audit.chain import Break, verify_chain
from shared.audit.events import AuditEvent, ordered
from shared.audit.files import file_breaks
from shared.audit.state import CampaignEnvelope, Grant
from shared.contracts.base import TYPE_PREFIX
from shared.contracts.selection import GrantReleased, SelectionDecided
from shared.kernel.eventstore import read_after, read_stream

Progress = Callable[[int, int], None]  # (events checked, events in the store)

_DECISIONS = """
SELECT occurred_at, COALESCE(data->>'granted_eur', '-' || (data->>'released_eur')) AS granted_eur
FROM events
WHERE event_type = ANY($1::text[]) AND occurred_at <= $2 AND data->>'campaign_id' = $3
"""


def until(stream: Iterable[AuditEvent], at: datetime | None) -> list[AuditEvent]:
    """A stream as it stood at `at`: its versions up to the first one after that instant."""
    return list(stream) if at is None else list(takewhile(lambda e: e.occurred_at <= at, stream))


async def history(
    pools: Mapping[str, asyncpg.Pool], dossier_id: UUID, as_of: datetime | None = None
) -> list[AuditEvent]:
    """The dossier's events in every service's store (up to `as_of`), merged in time order."""

    async def stream(service: str, pool: asyncpg.Pool) -> list[AuditEvent]:
        async with pool.acquire() as conn:
            stored = await read_stream(conn, str(dossier_id))
        return until((AuditEvent.from_stored(service, s) for s in stored), as_of)

    streams = await asyncio.gather(*(stream(service, pool) for service, pool in pools.items()))
    return ordered(e for events in streams for e in events)


async def verify_store(
    pool: asyncpg.Pool, service: str, progress: Progress | None = None, *, chunk: int = 1000
) -> list[Break]:
    """Every stream of one store, stream by stream, read in chunks of the primary key; and the
    bytes of every file its events name."""
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM events")
    breaks: list[Break] = []
    stream: list[AuditEvent] = []
    after, checked = ("", 0), 0
    while True:
        async with pool.acquire() as conn:
            batch = await read_after(conn, *after, chunk)
            breaks += await file_breaks(conn, service, batch)
        for stored in batch:
            if stream and stream[-1].stream_id != stored.stream_id:
                breaks += verify_chain(stream)
                stream = []
            stream.append(AuditEvent.from_stored(service, stored))
        checked += len(batch)
        if progress:
            progress(checked, max(total, checked))
        if len(batch) < chunk:
            break
        after = (batch[-1].stream_id, batch[-1].version)
    return breaks + verify_chain(stream)


async def campaign_envelope(
    selection: asyncpg.Pool, campaign_id: str, envelope_eur: Decimal, at: datetime
) -> CampaignEnvelope:
    """The campaign's grants up to `at` (decided, and released again), read from selection's
    store by type and time."""
    types = [
        f"{TYPE_PREFIX}{model.name}.v{v}"
        for model in (SelectionDecided, GrantReleased)
        for v in range(1, model.version + 1)
    ]
    async with selection.acquire() as conn:
        rows = await conn.fetch(_DECISIONS, types, at, campaign_id)
    grants = tuple(Grant(r["occurred_at"], Decimal(r["granted_eur"])) for r in rows)
    return CampaignEnvelope(campaign_id, envelope_eur, grants)
