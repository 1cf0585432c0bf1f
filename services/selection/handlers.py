"""Selection's reactions: load the dossier's stream, decide, append — one transaction."""

from datetime import datetime

import asyncpg

from services.selection import domain
from shared.campaigns import Campaign
from shared.contracts.applications import ApplicationSubmitted
from shared.eventstore import EventStore, head_hash


async def check_eligibility(conn: asyncpg.Connection, store: EventStore,
                            submitted: ApplicationSubmitted, campaign: Campaign,
                            now: datetime) -> None:
    stream = str(submitted.dossier_id)
    history = await store.load(conn, stream)
    state = domain.SelectionState()
    for stored in history:
        state = domain.evolve(state, stored.event())
    events = domain.check_eligibility(state, submitted, campaign, now)
    await store.append(conn, stream, len(history), events, prev_hash=head_hash(history), now=now,
                       metadata={"actor": "system:eligibility"})
