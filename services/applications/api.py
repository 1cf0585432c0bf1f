"""HTTP routes of the applications service. Thin: parse, call the handler, answer."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict

from services.applications import handlers
from shared.contracts.applications import ApplicationSubmitted, Dossier, Text
from shared.kernel.app import actor_of, runtime_of
from shared.kernel.http import recorded
from shared.kernel.runtime import Runtime
from shared.language.actors import Actor, require_reader
from shared.language.campaigns import find
from shared.language.errors import NotFound

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
ActorDep = Annotated[Actor, Depends(actor_of)]

# The read model, and what applications learnt of the decision (its withdrawal rule's input).
_DOSSIER = """
SELECT d.*, x.outcome AS decision, x.decided_at
FROM dossiers d LEFT JOIN decisions x USING (dossier_id)
"""


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


@router.get("/campaigns")
async def list_campaigns(rt: RuntimeDep) -> list[dict[str, Any]]:
    now = rt.clock()
    return [
        {
            "id": c.id,
            "title": c.title,
            "deadline": c.deadline_paris(),
            "open": c.is_open(now),
            "cap_eur": f"{c.cap_eur:.2f}",
        }
        for c in sorted(rt.campaigns.values(), key=lambda c: c.deadline)
    ]


@router.post("/campaigns/{campaign_id}/dossiers", status_code=201)
async def file_dossier(
    campaign_id: str, dossier: Dossier, actor: ActorDep, rt: RuntimeDep, response: Response
) -> dict[str, Any]:
    """Only the applicant of the dossier's SIREN files it. The answer names the dossier, then the
    events recorded, as every command's answer does."""
    campaign = find(rt.campaigns, campaign_id)
    stored = await handlers.submit_dossier(rt.db(), rt.store, campaign, dossier, actor, rt.clock())
    submitted = stored[0].event()
    assert isinstance(submitted, ApplicationSubmitted)
    response.headers["Location"] = f"/dossiers/{submitted.dossier_id}"
    return {
        "dossier_id": str(submitted.dossier_id),
        "reference": submitted.reference,
        "campaign_id": submitted.campaign_id,
        "submitted_at": submitted.submitted_at.isoformat(),
        **recorded(stored),
    }


@router.post("/dossiers/{dossier_id}/withdrawal", status_code=201)
async def withdraw_dossier(
    dossier_id: UUID, withdrawal: Withdrawal, actor: ActorDep, rt: RuntimeDep
) -> dict[str, Any]:
    stored = await handlers.withdraw_dossier(
        rt.db(), rt.store, dossier_id, actor, withdrawal.reason, rt.clock()
    )
    return recorded(stored)


@router.get("/dossiers/{dossier_id}")
async def read_dossier(dossier_id: UUID, actor: ActorDep, rt: RuntimeDep) -> dict[str, Any]:
    async with rt.db().acquire() as conn:
        row = await conn.fetchrow(_DOSSIER + "WHERE d.dossier_id = $1", dossier_id)
    if row is None:
        raise NotFound(f"no dossier {dossier_id} (yet: the read model follows the log)")
    require_reader(actor, siren=row["siren"], departement=row["departement"])
    return _plain(row)


@router.get("/dossiers")
async def list_dossiers(
    actor: ActorDep, rt: RuntimeDep, campaign_id: str | None = None
) -> list[dict[str, Any]]:
    """The dossiers this actor may read: an applicant its SIREN's, a préfecture its
    département's, MILDECA and the auditors all; by reference."""
    # A token binds an applicant to a SIREN and a préfecture to a département, nobody else.
    async with rt.db().acquire() as conn:
        rows = await conn.fetch(
            _DOSSIER + "WHERE ($1::text IS NULL OR d.campaign_id = $1)"
            " AND ($2::text IS NULL OR d.siren = $2) AND ($3::text IS NULL OR d.departement = $3)"
            " ORDER BY d.reference",
            campaign_id,
            actor.siren,
            actor.departement,
        )
    return [_plain(row) for row in rows]


def _plain(row: Any) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value) if isinstance(value, UUID) else value

    return {key: plain(value) for key, value in dict(row).items()}
