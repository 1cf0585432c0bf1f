"""HTTP routes of drafts: saved, shared with the préfecture, commented, filed. A draft is not
a filing: no reference, no eligibility; the call's deadline applies to filing only."""

import json
from typing import Any
from uuid import UUID, uuid4

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.applications import handlers, queries
from services.applications.errors import UnknownDraft
from shared.contracts.values import Motivation, refuse
from shared.kernel.deps import ActorDep, CampaignId, CampaignsDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import READ_MANY, Recorded, api_router, command, errors, link_to
from shared.language.actors import Role
from shared.language.campaigns import find

router = api_router()

DRAFT_MAX_BYTES = 256_000  # a draft is a dossier being written, not a store of files

_TO_DRAFT = {"ReadDraft": link_to("read_draft", draft_id="$request.path.draft_id")}


class DraftContent(BaseModel):
    """What the applicant wrote so far: the dossier's body, as far as it goes (checked whole
    only when it is filed)."""

    model_config = ConfigDict(extra="forbid")

    content: dict[str, Any] = Field(
        description=f"a part of the body of a filing, at most {DRAFT_MAX_BYTES:,} bytes as JSON"
    )

    @field_validator("content")
    @classmethod
    def _storable(cls, content: dict[str, Any]) -> dict[str, Any]:
        """What the database can keep: no NUL anywhere (PostgreSQL refuses it), a bounded size."""
        if _has_nul(content):
            refuse("text_nul", "a draft cannot contain the NUL character (\\u0000)")
        size = len(json.dumps(content, ensure_ascii=False).encode())
        if size > DRAFT_MAX_BYTES:
            refuse(
                "draft_too_large",
                f"a draft is at most {DRAFT_MAX_BYTES} bytes as JSON, not {size}",
                max_bytes=DRAFT_MAX_BYTES,
            )
        return content


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Motivation


class Saved(Recorded):
    draft_id: UUID


@router.post(
    "/campaigns/{campaign_id}/drafts",
    **command(
        answer=Saved,
        links={"ReadDraft": link_to("read_draft", draft_id="$response.body#/draft_id")},
    ),
)
async def start_draft(
    campaign_id: CampaignId,
    draft: DraftContent,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
    response: Response,
) -> dict[str, Any]:
    """An applicant starts a draft in a campaign; its id becomes the dossier's when filed."""
    campaign = find(campaigns, campaign_id)
    draft_id = uuid4()
    stored = await handlers.save_draft(
        pool, store, draft_id, actor, campaign, draft.content, clock()
    )
    response.headers["Location"] = f"/drafts/{draft_id}"
    return {"draft_id": str(draft_id), **recorded(stored)}


@router.post("/drafts/{draft_id}/content", **command(links=_TO_DRAFT))
async def save_draft(
    draft_id: UUID,
    draft: DraftContent,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """The draft as the applicant now wrote it (the whole content, replacing the last)."""
    stored = await handlers.save_draft_again(
        pool, store, draft_id, actor, campaigns, draft.content, clock()
    )
    return recorded(stored)


@router.post("/drafts/{draft_id}/sharing", **command(links=_TO_DRAFT))
async def share_draft(
    draft_id: UUID, actor: ActorDep, pool: PoolDep, store: StoreDep, clock: ClockDep
) -> dict[str, Any]:
    """Shown to the préfecture of the draft's département, which may comment before filing."""
    return recorded(await handlers.share_draft(pool, store, draft_id, actor, clock()))


@router.post("/drafts/{draft_id}/comments", **command(links=_TO_DRAFT))
async def comment_draft(
    draft_id: UUID,
    comment: Comment,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """The préfecture the draft was shared with comments on it; the applicant is mailed."""
    return recorded(
        await handlers.comment_draft(pool, store, draft_id, actor, comment.text, clock())
    )


@router.post(
    "/drafts/{draft_id}/filing",
    **command(links={"ReadDossier": link_to("read_dossier", dossier_id="$request.path.draft_id")}),
)
async def file_draft(
    draft_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """The draft filed as the dossier (same id), checked whole and under the call's deadline as
    a filing at once is; its errors name the content's fields."""
    return recorded(await handlers.file_draft(pool, store, draft_id, actor, campaigns, clock()))


@router.get("/drafts", **READ_MANY)
async def list_drafts(actor: ActorDep, pool: PoolDep) -> list[dict[str, Any]]:
    """An applicant's drafts not yet filed; to a préfecture, those shared with it."""
    if actor.role not in (Role.applicant, Role.prefecture):
        return []
    return await queries.drafts(pool, siren=actor.siren, departement=actor.departement)


@router.get("/drafts/{draft_id}", responses=errors(401, 403, 404, 422, 503))
async def read_draft(draft_id: UUID, actor: ActorDep, pool: PoolDep) -> dict[str, Any]:
    """The draft and its comments: to its applicant, and to the préfecture it was shared with."""
    view = await queries.draft(pool, draft_id)
    mine = view is not None and actor.role is Role.applicant and view["siren"] == actor.siren
    shared = (
        view is not None
        and actor.role is Role.prefecture
        and view["departement"] == actor.departement
    )
    if view is None or not (mine or shared):
        raise UnknownDraft(draft_id)
    return view
