"""What applications heard of the President's decisions: the input of the withdrawal rule.

Not a read model (a rebuild never drops it): the first decision on a dossier closes the door
to its withdrawal and to its corrections. Written by the `decisions` consumer with its tracking
row. Recording and reading both take the dossier's lock for their transaction: a command that
read no decision commits before the decision is recorded, so that the consumer, loading the
dossier next, sees what that command did (an amendment it then sets aside).
"""

from uuid import UUID

import asyncpg

from services.applications.commands import Decision
from shared.contracts.selection import SelectionDecided

_RECORD = """
INSERT INTO decisions (dossier_id, outcome, decided_at) VALUES ($1, $2, $3)
ON CONFLICT (dossier_id) DO NOTHING
"""

_OF = "SELECT outcome, decided_at FROM decisions WHERE dossier_id = $1"

# Until the transaction ends; the same key for a dossier in both ways.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('decision:' || $1::uuid::text, 0))"


async def record(conn: asyncpg.Connection, decided: SelectionDecided) -> None:
    await conn.execute(_LOCK, decided.dossier_id)
    await conn.execute(_RECORD, decided.dossier_id, decided.outcome.value, decided.decided_at)


async def of(conn: asyncpg.Connection, dossier_id: UUID) -> Decision | None:
    await conn.execute(_LOCK, dossier_id)
    row = await conn.fetchrow(_OF, dossier_id)
    return Decision(row["outcome"], row["decided_at"]) if row else None
