"""HTTP routes of the applications service. Thin: parse, call the handler, answer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.applications import handlers
from shared.app import runtime_of
from shared.campaigns import find
from shared.contracts.applications import Dossier
from shared.errors import NotFound
from shared.runtime import Runtime

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get("/campaigns")
async def list_campaigns(rt: RuntimeDep) -> list[dict[str, Any]]:
    now = rt.clock()
    return [
        {"id": c.id, "title": c.title, "deadline": c.deadline_paris(), "open": c.is_open(now),
         "cap_eur": f"{c.cap_eur:.2f}"}
        for c in sorted(rt.campaigns.values(), key=lambda c: c.deadline)
    ]


@router.post("/campaigns/{campaign_id}/dossiers", status_code=201)
async def file_dossier(campaign_id: str, dossier: Dossier, rt: RuntimeDep,
                       response: Response) -> dict[str, str]:
    campaign = find(rt.campaigns, campaign_id)
    submitted = await handlers.submit_dossier(rt.db(), rt.store, campaign, dossier, rt.clock())
    response.headers["Location"] = f"/dossiers/{submitted.dossier_id}"
    return {
        "dossier_id": str(submitted.dossier_id),
        "reference": submitted.reference,
        "campaign_id": submitted.campaign_id,
        "submitted_at": submitted.submitted_at.isoformat(),
    }


@router.get("/dossiers/{dossier_id}")
async def read_dossier(dossier_id: UUID, rt: RuntimeDep) -> dict[str, Any]:
    async with rt.db().acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM dossiers WHERE dossier_id = $1", dossier_id)
    if row is None:
        raise NotFound(f"no dossier {dossier_id} (yet: the read model follows the log)")
    return {k: (str(v) if not isinstance(v, str | None) else v) for k, v in dict(row).items()}
