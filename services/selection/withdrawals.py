"""The dossiers their applicants withdrew (or MILDECA closed as incomplete), as selection heard
them from the applications' log.

Not a read model (a rebuild never drops it): the input of every command's withdrawal rule.
Recorded by whichever of selection's consumers hears the withdrawal first, in the transaction
of its own effects: whoever reads the dossier withdrawn can count on every command refusing it.
"""

from uuid import UUID

import asyncpg

from shared.contracts.applications import ApplicationWithdrawn, DossierClosedIncomplete
from shared.kernel import writes

_WITHDRAWN = "SELECT EXISTS (SELECT 1 FROM withdrawals WHERE dossier_id = $1)"


async def record(
    conn: asyncpg.Connection, withdrawn: ApplicationWithdrawn | DossierClosedIncomplete
) -> None:
    """A dossier closed as incomplete is out of the call as a withdrawn one is."""
    at = (
        withdrawn.withdrawn_at
        if isinstance(withdrawn, ApplicationWithdrawn)
        else withdrawn.closed_at
    )
    await writes.upsert(
        conn,
        "withdrawals",
        {"dossier_id": withdrawn.dossier_id},
        {},
        on_insert={"withdrawn_at": at},
    )


async def withdrawn(conn: asyncpg.Connection, dossier_id: UUID) -> bool:
    answer: bool = await conn.fetchval(_WITHDRAWN, dossier_id)
    return answer
