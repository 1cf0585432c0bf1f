"""What selection answers to readers, from its read model: a dossier, a campaign's ranking."""

import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from shared.language.campaigns import Campaign

_JSON_COLUMNS = ("failed_rules", "scores", "signatures")

_RANKING = """
SELECT dossier_id, reference, applicant, departement, opinion, weighted_score, proposed_eur,
       requested_eur, outcome, granted_eur
FROM selection_dossiers
WHERE campaign_id = $1 AND weighted_score IS NOT NULL AND NOT withdrawn
ORDER BY weighted_score DESC, reference
"""

_GRANTED = "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = $1"


def _plain(value: Any) -> Any:
    """A column's value as JSON says it: amounts "1234.50", aware times in ISO 8601."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _view(row: asyncpg.Record) -> dict[str, Any]:
    out = {name: _plain(value) for name, value in row.items()}
    for name in _JSON_COLUMNS:
        if isinstance(out.get(name), str):
            out[name] = json.loads(out[name])
    return out


async def dossier(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    """The dossier's row, or None while selection knows neither its holder nor its check."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM selection_dossiers WHERE dossier_id = $1 AND siren IS NOT NULL",
            dossier_id,
        )
    return None if row is None else _view(row)


async def ranking(pool: asyncpg.Pool, campaign: Campaign) -> dict[str, Any]:
    """The campaign's assessed dossiers, best weighted score first (ties: the earlier filed first)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_RANKING, campaign.id)
        granted = await conn.fetchval(_GRANTED, campaign.id) or Decimal("0.00")
    return {
        "campaign_id": campaign.id,
        "envelope_eur": _plain(campaign.envelope_eur),
        "granted_eur": _plain(granted),
        "remaining_eur": _plain(campaign.envelope_eur - granted),
        "dossiers": [{"rank": rank, **_view(row)} for rank, row in enumerate(rows, start=1)],
    }
