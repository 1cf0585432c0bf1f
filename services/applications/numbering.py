"""The dossiers' numbers, per campaign: gap-free, because each is taken in its filing's
transaction."""

import asyncpg

_NEXT = """
INSERT INTO dossier_counters (campaign_id, last_number) VALUES ($1, 1)
ON CONFLICT (campaign_id) DO UPDATE SET last_number = dossier_counters.last_number + 1
RETURNING last_number
"""


async def next_number(conn: asyncpg.Connection, campaign_id: str) -> int:
    number: int = await conn.fetchval(_NEXT, campaign_id)
    return number
