"""The applications service's read side: every SQL its HTTP reads run, returning plain values."""

from typing import Any
from uuid import UUID

import asyncpg

from shared.kernel.rows import as_json

# The read model, and what applications heard of the decision (its withdrawal rule's input).
_DOSSIER = """
SELECT d.*, x.outcome AS decision, x.decided_at
FROM dossiers d LEFT JOIN decisions x USING (dossier_id)
"""

_ONE = _DOSSIER + "WHERE d.dossier_id = $1"

# A token binds an applicant to a SIREN and a préfecture to a département, nobody else.
_ALL = (
    _DOSSIER + "WHERE ($1::text IS NULL OR d.campaign_id = $1)"
    " AND ($2::text IS NULL OR d.siren = $2) AND ($3::text IS NULL OR d.departement = $3)"
    " ORDER BY d.reference"
)


async def dossier(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_ONE, dossier_id)
    return None if row is None else as_json(row, ("filed",))


async def dossiers(
    pool: asyncpg.Pool, *, campaign_id: str | None, siren: str | None, departement: str | None
) -> list[dict[str, Any]]:
    """By reference; each filter applies when given."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_ALL, campaign_id, siren, departement)
    return [{k: v for k, v in as_json(row).items() if k != "filed"} for row in rows]
