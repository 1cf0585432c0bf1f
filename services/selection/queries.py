"""Selection's read side: a dossier, a campaign's ranking, from its read model."""

from typing import Any
from uuid import UUID

import asyncpg

from services.selection import envelopes
from shared.kernel.rows import as_json, plain
from shared.language.campaigns import Campaign

_JSON_COLUMNS = ("failed_rules", "scores", "signatures")

_DOSSIER = "SELECT * FROM selection_dossiers WHERE dossier_id = $1 AND siren IS NOT NULL"

_RANKING = """
SELECT dossier_id, reference, applicant, departement, opinion, weighted_score, proposed_eur,
       requested_eur, outcome, granted_eur
FROM selection_dossiers
WHERE campaign_id = $1 AND weighted_score IS NOT NULL AND NOT withdrawn
ORDER BY weighted_score DESC, reference
"""


async def dossier(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    """The dossier's row, or None while selection knows neither its holder nor its check."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_DOSSIER, dossier_id)
    return None if row is None else as_json(row, _JSON_COLUMNS)


async def ranking(pool: asyncpg.Pool, campaign: Campaign) -> dict[str, Any]:
    """The campaign's assessed dossiers, best weighted score first (ties: the earlier filed
    first)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_RANKING, campaign.id)
        granted = await envelopes.granted(conn, campaign.id)
    return {
        "campaign_id": campaign.id,
        "envelope_eur": plain(campaign.envelope_eur),
        "granted_eur": plain(granted),
        "remaining_eur": plain(campaign.envelope_eur - granted),
        "dossiers": [{"rank": rank, **as_json(row)} for rank, row in enumerate(rows, start=1)],
    }
