"""What each campaign granted so far: the envelope every decision locks before it decides.

Not a read model: decision state. A decision locks its campaign's row before it reads the
dossier, and adds its grant in the same transaction, so concurrent decisions never overspend.
A grant released (the dossier withdrawn after its selection) is taken off under the same lock.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from uuid import UUID

import asyncpg

from shared.contracts import DomainEvent
from shared.contracts.selection import GrantReleased, SelectionDecided
from shared.language.campaigns import Campaign, find

# Every selection event carries its campaign; the first one is enough to find the envelope.
_CAMPAIGN_OF = "SELECT data->>'campaign_id' FROM events WHERE stream_id = $1 AND version = 1"

# The envelope follows the campaign's data; the upsert also locks the row until the commit.
_ENSURE = """
INSERT INTO campaign_envelopes (campaign_id, envelope_eur, granted_eur) VALUES ($1, $2, 0)
ON CONFLICT (campaign_id) DO UPDATE SET envelope_eur = excluded.envelope_eur
"""

_LOCK = "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = $1 FOR UPDATE"

_ADD = "UPDATE campaign_envelopes SET granted_eur = granted_eur + $2 WHERE campaign_id = $1"

_GRANTED = "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = $1"


async def lock(
    conn: asyncpg.Connection, campaigns: Mapping[str, Campaign], dossier_id: UUID
) -> Decimal:
    """What the dossier's campaign granted so far, its row locked until the commit."""
    campaign_id = await conn.fetchval(_CAMPAIGN_OF, str(dossier_id))
    if campaign_id is None:
        return Decimal("0.00")  # an unknown dossier: the decision refuses it, nothing to lock
    return await lock_campaign(conn, find(campaigns, campaign_id))


async def lock_campaign(conn: asyncpg.Connection, campaign: Campaign) -> Decimal:
    """What the campaign granted so far, its row locked until the commit."""
    await conn.execute(_ENSURE, campaign.id, campaign.envelope_eur)
    granted: Decimal = await conn.fetchval(_LOCK, campaign.id)
    return granted


async def follow(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
    """A grant decided adds to its envelope, a grant released goes back (under the lock)."""
    for event in events:
        match event:
            case SelectionDecided(granted_eur=granted) if granted:
                await conn.execute(_ADD, event.campaign_id, granted)
            case GrantReleased(released_eur=released):
                await conn.execute(_ADD, event.campaign_id, -released)


async def granted(conn: asyncpg.Connection, campaign_id: str) -> Decimal:
    amount: Decimal | None = await conn.fetchval(_GRANTED, campaign_id)
    return amount if amount is not None else Decimal("0.00")
