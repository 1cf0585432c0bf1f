"""Notifications' read side: who a dossier's mails are for, and what was sent."""

from typing import Any
from uuid import UUID

import asyncpg

_HOLDER = "SELECT siren, departement FROM recipients WHERE dossier_id = $1"
_SENT = "SELECT * FROM notification_log WHERE dossier_id = $1 ORDER BY sent_at"


async def holder(
    conn: asyncpg.Connection, dossier_id: UUID
) -> tuple[str | None, str | None] | None:
    """(SIREN, département) of the dossier's holder; None while notifications knows none."""
    row = await conn.fetchrow(_HOLDER, dossier_id)
    return None if row is None else (row["siren"], row["departement"])


async def sent(conn: asyncpg.Connection, dossier_id: UUID) -> list[dict[str, Any]]:
    return [{k: str(v) for k, v in dict(r).items()} for r in await conn.fetch(_SENT, dossier_id)]
