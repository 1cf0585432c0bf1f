"""HTTP routes of the applications service. Thin: parse, call the handler or the query, answer."""

from typing import Any
from uuid import UUID

from fastapi import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.applications import handlers, queries, reviewers
from services.applications.errors import UnknownDossier
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.values import Text
from shared.kernel.deps import (
    ActorDep,
    CampaignFilter,
    CampaignId,
    CampaignsDep,
    ClockDep,
    PoolDep,
    ReviewerDep,
    StoreDep,
)
from shared.kernel.http import recorded
from shared.kernel.openapi import READ_MANY, READ_ONE, Recorded, api_router, command, link_to
from shared.language.actors import Actor, Role
from shared.language.campaigns import find

router = api_router()


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class Filed(Recorded):
    """A filing's answer: the dossier, its reference, then the events recorded."""

    dossier_id: UUID
    reference: str
    campaign_id: str
    submitted_at: AwareDatetime


# Where a filing leads: the dossier, and its withdrawal.
_FILED = {
    "ReadDossier": link_to("read_dossier", dossier_id="$response.body#/dossier_id"),
    "WithdrawDossier": link_to("withdraw_dossier", dossier_id="$response.body#/dossier_id"),
}


@router.get("/campaigns")
async def list_campaigns(campaigns: CampaignsDep, clock: ClockDep) -> list[dict[str, Any]]:
    now = clock()
    return [
        {
            "id": c.id,
            "title": c.title,
            "deadline": c.deadline_paris(),
            "open": c.is_open(now),
            "cap_eur": f"{c.cap_eur:.2f}",
        }
        for c in sorted(campaigns.values(), key=lambda c: c.deadline)
    ]


@router.post("/campaigns/{campaign_id}/dossiers", **command(links=_FILED, answer=Filed))
async def file_dossier(
    campaign_id: CampaignId,
    dossier: Dossier,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
    response: Response,
) -> dict[str, Any]:
    """Only the applicant of the dossier's SIREN files it. The answer names the dossier, then the
    events recorded, as every command's answer does."""
    campaign = find(campaigns, campaign_id)
    stored = await handlers.submit_dossier(pool, store, campaign, dossier, actor, clock())
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


@router.post(
    "/dossiers/{dossier_id}/withdrawal",
    **command(
        links={"ReadDossier": link_to("read_dossier", dossier_id="$request.path.dossier_id")}
    ),
)
async def withdraw_dossier(
    dossier_id: UUID,
    withdrawal: Withdrawal,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    stored = await handlers.withdraw_dossier(
        pool, store, dossier_id, actor, withdrawal.reason, clock()
    )
    return recorded(stored)


async def readable(pool: Any, dossier_id: UUID, actor: Actor) -> dict[str, Any]:
    """The dossier's read, when the actor may read it; else as a dossier that does not exist."""
    view = await queries.dossier_for(pool, dossier_id, actor)
    if view is None:
        raise UnknownDossier(dossier_id, reading=True)
    return view


async def _reviewed(pool: Any, dossier_id: UUID, actor: Actor) -> dict[str, Any]:
    """The dossier for a committee member who declared no conflict of interest with it (and was
    not recused); any other reviewer reads it as a dossier that does not exist."""
    view = await queries.dossier(pool, dossier_id)
    if view is None or not await reviewers.may_read(pool, dossier_id, actor.subject):
        raise UnknownDossier(dossier_id, reading=True)
    return view


@router.get("/dossiers/{dossier_id}", **READ_ONE)
async def read_dossier(
    dossier_id: UUID, actor: ReviewerDep, pool: PoolDep, campaigns: CampaignsDep
) -> dict[str, Any]:
    """The dossier as it stands (as filed, then as amended), its amendments, the correction it
    waits for, and whether it carries every file its call requires. A committee member reads
    the dossiers they declared no conflict of interest with."""
    read = _reviewed if actor.role is Role.reviewer else readable
    view = await read(pool, dossier_id, actor)
    files = await queries.attachments(pool, dossier_id, agent=False)
    required = find(campaigns, view["campaign_id"]).attachments.required
    return {**view, **queries.completeness(files, required)}


@router.get("/dossiers", **READ_MANY)
async def list_dossiers(
    actor: ActorDep, pool: PoolDep, campaign_id: CampaignFilter = None
) -> list[dict[str, Any]]:
    """The dossiers this actor may read: an applicant its SIREN's, a préfecture its
    département's, MILDECA and the auditors all; by reference."""
    return await queries.dossiers(
        pool, campaign_id=campaign_id, siren=actor.siren, departement=actor.departement
    )
