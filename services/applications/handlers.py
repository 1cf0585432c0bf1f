"""Filing a dossier: number it, decide, append its events and outbox rows in one transaction."""

from datetime import datetime
from uuid import uuid4

import asyncpg

from services.applications import domain
from shared.campaigns import Campaign
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared import hashchain
from shared.eventstore import EventStore

_NEXT_NUMBER = """
INSERT INTO dossier_counters (campaign_id, last_number) VALUES ($1, 1)
ON CONFLICT (campaign_id) DO UPDATE SET last_number = dossier_counters.last_number + 1
RETURNING last_number
"""


async def submit_dossier(pool: asyncpg.Pool, store: EventStore, campaign: Campaign,
                         dossier: Dossier, now: datetime) -> ApplicationSubmitted:
    domain.ensure_open(campaign, now)  # refused at the door: no number taken, nothing stored
    dossier_id = uuid4()
    async with pool.acquire() as conn, conn.transaction():
        number = await conn.fetchval(_NEXT_NUMBER, campaign.id)
        reference = domain.reference_for(campaign, number)
        # A new dossier id: its stream is empty, nothing to load.
        events = domain.submit(domain.DossierState(), dossier_id=dossier_id, reference=reference,
                               campaign=campaign, dossier=dossier, now=now)
        await store.append(conn, str(dossier_id), 0, events, prev_hash=hashchain.GENESIS, now=now)
    submitted = events[0]
    assert isinstance(submitted, ApplicationSubmitted)
    return submitted
