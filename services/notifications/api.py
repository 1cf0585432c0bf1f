"""HTTP routes of the notifications service: what was sent for a dossier."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from shared.actors import Actor, require_reader
from shared.app import actor_of, runtime_of
from shared.errors import NotFound
from shared.runtime import Runtime

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
ActorDep = Annotated[Actor, Depends(actor_of)]


@router.get("/dossiers/{dossier_id}/notifications")
async def notifications_of(dossier_id: UUID, actor: ActorDep, rt: RuntimeDep) -> list[dict[str, Any]]:
    """The mails sent for a dossier: MILDECA and the auditors read all, its holder and its
    département's préfecture theirs."""
    async with rt.db().acquire() as conn:
        holder = await conn.fetchrow(
            "SELECT siren, departement FROM recipients WHERE dossier_id = $1", dossier_id)
        if holder is None:
            raise NotFound(f"notifications knows no dossier {dossier_id} (yet: it follows the log)")
        # A dossier recorded before its holder's binding was: only the unbound readers see it.
        require_reader(actor, siren=holder["siren"] or "unknown",
                       departement=holder["departement"] or "unknown")
        rows = await conn.fetch(
            "SELECT * FROM notification_log WHERE dossier_id = $1 ORDER BY sent_at", dossier_id)
    return [{k: str(v) for k, v in dict(r).items()} for r in rows]
