"""HTTP routes of corrections: asked by MILDECA, answered by the applicant, or the dossier
closed as incomplete once the deadline passed. Thin: parse, call the handler, answer."""

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.applications import handlers
from shared.contracts.applications import CORRECTABLE
from shared.contracts.values import Motivation
from shared.kernel.deps import ActorDep, CampaignsDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import api_router, command, link_to

router = api_router()

_TO_DOSSIER = {"ReadDossier": link_to("read_dossier", dossier_id="$request.path.dossier_id")}


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(
        min_length=1,
        max_length=len(CORRECTABLE),
        description=f"the parts to correct, among: {', '.join(CORRECTABLE)}",
        examples=[["project.summary", "budget"]],
    )
    reason: Motivation
    due_at: AwareDatetime | None = Field(
        default=None, description="by when; the call's correction_days from now when not given"
    )


class Amendment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: dict[str, Any] = Field(
        min_length=1,
        description="each field asked, with its new value (as in the dossier's body)",
        examples=[{"project.summary": "Un plan d'action partenarial, précisé."}],
    )


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    motivation: Motivation


@router.post("/dossiers/{dossier_id}/correction-request", **command(links=_TO_DOSSIER))
async def request_correction(
    dossier_id: UUID,
    asked: CorrectionRequest,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """MILDECA asks the applicant to correct the fields named, with the reason and a deadline,
    instead of refusing the dossier; the dossier waits for the correction."""
    stored = await handlers.request_correction(
        pool, store, dossier_id, actor, asked.fields, asked.reason, asked.due_at, campaigns, clock()
    )
    return recorded(stored)


@router.post("/dossiers/{dossier_id}/amendment", **command(links=_TO_DOSSIER))
async def amend_dossier(
    dossier_id: UUID,
    amendment: Amendment,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """The applicant corrects the fields asked, and those only; the dossier is checked whole as
    a filing is, and its eligibility is checked again."""
    stored = await handlers.amend(pool, store, dossier_id, actor, amendment.changes, clock())
    return recorded(stored)


@router.post("/dossiers/{dossier_id}/closure", **command(links=_TO_DOSSIER))
async def close_incomplete(
    dossier_id: UUID,
    closure: Closure,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """MILDECA closes as incomplete a dossier whose correction did not come before its
    deadline, with a motivation: every later step stops."""
    stored = await handlers.close_incomplete(
        pool, store, dossier_id, actor, closure.motivation, clock()
    )
    return recorded(stored)
