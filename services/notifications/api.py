"""HTTP routes of the notifications service: what was sent for a dossier."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from shared.app import runtime_of
from shared.runtime import Runtime

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get("/dossiers/{dossier_id}/notifications")
async def notifications_of(dossier_id: UUID, rt: RuntimeDep) -> list[dict[str, Any]]:
    async with rt.db().acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM notification_log WHERE dossier_id = $1 ORDER BY sent_at", dossier_id)
    return [{k: str(v) for k, v in dict(r).items()} for r in rows]
