"""HTTP routes of the notifications service: what was sent for a dossier; the auditor's trail."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from services.notifications import audit_trail, queries
from services.notifications.errors import UnknownDossier
from shared.kernel.deps import ActorDep, CampaignsDep, ClockDep, Instant, PoolDep
from shared.kernel.openapi import READ_ONE, api_router, errors
from shared.language.actors import Role, require_role, within_binding

router = api_router()


@router.get("/dossiers/{dossier_id}/notifications", **READ_ONE)
async def notifications_of(
    dossier_id: UUID, actor: ActorDep, pool: PoolDep
) -> list[dict[str, Any]]:
    """The mails sent for a dossier: MILDECA and the auditors read all, its holder and its
    département's préfecture theirs."""
    async with pool.acquire() as conn:
        holder = await queries.holder(conn, dossier_id)
        # A dossier recorded before its holder's binding was: only the unbound readers see it.
        siren, departement = holder or (None, None)
        if holder is None or not within_binding(actor, siren=siren, departement=departement):
            raise UnknownDossier(
                f"notifications knows no dossier {dossier_id} (yet: it follows the log)"
            )
        return await queries.sent(conn, dossier_id)


@router.get("/audit/dossiers/{dossier_id}", responses=errors(401, 403, 404, 422, 503))
async def audit_dossier(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
    as_of: Annotated[
        Instant | None,
        Query(description="the instant to travel to, with its UTC offset (default: now)"),
    ] = None,
) -> dict[str, Any]:
    """A dossier's history across the services as published, its state as of an instant (what
    the decision-makers saw then) and the verdict of its hash chains. Auditors only."""
    require_role(actor, Role.auditor, to="replay a dossier's history")
    async with pool.acquire() as conn:
        return await audit_trail.replay(conn, campaigns, dossier_id, as_of or clock())


@router.get("/audit/dossiers/{dossier_id}/bundle", responses=errors(401, 403, 404, 422, 503))
async def audit_bundle(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    clock: ClockDep,
    as_of: Annotated[
        Instant | None, Query(description="only the history up to this instant")
    ] = None,
) -> JSONResponse:
    """The dossier's history as published, as a self-contained bundle to keep and verify
    offline with `aap audit check FILE`. Auditors only."""
    require_role(actor, Role.auditor, to="export a dossier's history")
    now = clock()
    async with pool.acquire() as conn:
        document = await audit_trail.bundle(conn, dossier_id, as_of or now, now)
    name = f"aap-dossier-{dossier_id}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    disposition = f'attachment; filename="{name}"'
    return JSONResponse(document, headers={"Content-Disposition": disposition})
