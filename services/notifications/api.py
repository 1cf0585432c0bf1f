"""HTTP routes of the notifications service: what was sent for a dossier; the auditor's trail."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from services.notifications import audit_trail
from shared.kernel.app import actor_of, runtime_of
from shared.kernel.runtime import Runtime
from shared.language.actors import Actor, Role, require_reader, require_role
from shared.language.errors import NotFound

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
ActorDep = Annotated[Actor, Depends(actor_of)]


@router.get("/dossiers/{dossier_id}/notifications")
async def notifications_of(
    dossier_id: UUID, actor: ActorDep, rt: RuntimeDep
) -> list[dict[str, Any]]:
    """The mails sent for a dossier: MILDECA and the auditors read all, its holder and its
    département's préfecture theirs."""
    async with rt.db().acquire() as conn:
        holder = await conn.fetchrow(
            "SELECT siren, departement FROM recipients WHERE dossier_id = $1", dossier_id
        )
        if holder is None:
            raise NotFound(f"notifications knows no dossier {dossier_id} (yet: it follows the log)")
        # A dossier recorded before its holder's binding was: only the unbound readers see it.
        require_reader(
            actor,
            siren=holder["siren"] or "unknown",
            departement=holder["departement"] or "unknown",
        )
        rows = await conn.fetch(
            "SELECT * FROM notification_log WHERE dossier_id = $1 ORDER BY sent_at", dossier_id
        )
    return [{k: str(v) for k, v in dict(r).items()} for r in rows]


@router.get("/audit/dossiers/{dossier_id}")
async def audit_dossier(
    dossier_id: UUID,
    actor: ActorDep,
    rt: RuntimeDep,
    as_of: Annotated[
        AwareDatetime | None,
        Query(description="the instant to travel to, with its UTC offset (default: now)"),
    ] = None,
) -> dict[str, Any]:
    """A dossier's history across the services as published, its state as of an instant (what
    the decision-makers saw then) and the verdict of its hash chains. Auditors only."""
    require_role(actor, Role.auditor, to="replay a dossier's history")
    async with rt.db().acquire() as conn:
        return await audit_trail.replay(conn, rt.campaigns, dossier_id, as_of or rt.clock())
