"""Which committee members may read a dossier: heard from selection's log (their declarations
of interests), the input of the reading rule for reviewers.

Not a read model (a rebuild never drops it): a reviewer reads a dossier once they declared no
conflict of interest with it, and never again once recused. Written by the `decisions` consumer
with its tracking row.
"""

from uuid import UUID

import asyncpg

from shared.contracts.committee import NoConflictDeclared, ReviewerRecused

_RECORD = """
INSERT INTO reviewer_access (dossier_id, reviewer, cleared, recused) VALUES ($1, $2, $3, $4)
ON CONFLICT (dossier_id, reviewer) DO UPDATE
    SET cleared = reviewer_access.cleared OR excluded.cleared,
        recused = reviewer_access.recused OR excluded.recused
"""

_MAY_READ = """
SELECT cleared AND NOT recused FROM reviewer_access WHERE dossier_id = $1 AND reviewer = $2
"""


async def record(conn: asyncpg.Connection, declared: NoConflictDeclared | ReviewerRecused) -> None:
    cleared = isinstance(declared, NoConflictDeclared)
    await conn.execute(_RECORD, declared.dossier_id, declared.reviewer, cleared, not cleared)


async def may_read(pool: asyncpg.Pool, dossier_id: UUID, reviewer: str) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(_MAY_READ, dossier_id, reviewer))
