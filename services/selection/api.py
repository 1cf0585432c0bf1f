"""HTTP routes of the selection service. Thin: parse, call the handler or the query, answer."""

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Body, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.selection import handlers, queries, reranking
from services.selection.errors import UnknownDossier
from services.selection.queries import State
from shared.contracts.selection import Opinion, Outcome, Scores
from shared.contracts.values import DepartementCode, Euros, Motivation, refuse
from shared.kernel.deps import ActorDep, CampaignId, CampaignsDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import READ_ONE, api_router, command, errors, link_to
from shared.language.actors import Role, require_role, within_binding
from shared.language.campaigns import find
from shared.language.errors import invalid

router = api_router()
Recorded = dict[str, Any]
# Every command on a dossier leads back to the dossier.
_ON_DOSSIER = command(
    links={"ReadDossier": link_to("read_dossier", dossier_id="$request.path.dossier_id")}
)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpinionBody(_Body):
    """The préfecture's opinion on a dossier of its département."""

    opinion: Opinion
    motivation: Motivation


class AssessmentBody(_Body):
    """The committee's six scores, the amount it proposes and why."""

    scores: Scores
    proposed_eur: Euros
    comment: Motivation


class DecisionBody(_Body):
    """The President's decision; a selection names the amount granted, a rejection grants
    nothing."""

    outcome: Outcome
    granted_eur: Euros | None = Field(default=None, validate_default=True)
    motivation: Motivation

    @field_validator("granted_eur")
    @classmethod
    def _granted_fits_the_outcome(
        cls, granted: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        outcome = info.data.get("outcome")
        if outcome is Outcome.selected and not granted:
            refuse("granted_missing", "a selection names the amount granted, above 0.00")
        if outcome is Outcome.rejected and granted:
            refuse(
                "granted_with_rejection",
                "a rejection grants nothing: leave granted_eur out, or 0.00",
            )
        return granted


class SignatureBody(_Body):
    """A signature of the convention: who signs, and for which party, comes from the token."""


@router.post("/dossiers/{dossier_id}/prefecture-opinion", **_ON_DOSSIER)
async def give_opinion(
    dossier_id: UUID,
    body: OpinionBody,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> Recorded:
    return recorded(
        await handlers.give_opinion(
            pool,
            store,
            dossier_id,
            actor,
            opinion=body.opinion,
            motivation=body.motivation,
            now=clock(),
        )
    )


@router.post("/dossiers/{dossier_id}/assessment", **_ON_DOSSIER)
async def record_assessment(
    dossier_id: UUID,
    body: AssessmentBody,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    return recorded(
        await handlers.record_assessment(
            pool,
            store,
            campaigns,
            dossier_id,
            actor,
            scores=body.scores,
            proposed_eur=body.proposed_eur,
            comment=body.comment,
            now=clock(),
        )
    )


@router.post("/dossiers/{dossier_id}/decision", **_ON_DOSSIER)
async def decide(
    dossier_id: UUID,
    body: DecisionBody,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    return recorded(
        await handlers.decide(
            pool,
            store,
            campaigns,
            dossier_id,
            actor,
            outcome=body.outcome,
            granted_eur=body.granted_eur,
            motivation=body.motivation,
            now=clock(),
        )
    )


@router.post("/dossiers/{dossier_id}/convention/signatures", **_ON_DOSSIER)
async def sign_convention(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
    body: Annotated[SignatureBody | None, Body()] = None,
) -> Recorded:
    return recorded(
        await handlers.sign_convention(pool, store, campaigns, dossier_id, actor, clock())
    )


@router.get("/dossiers/{dossier_id}", **READ_ONE)
async def read_dossier(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> dict[str, Any]:
    """The dossier as selection knows it; the committee's deliberation (its scores and what it
    proposed) only for MILDECA and the auditors: the others learn the decision."""
    view = await queries.dossier(pool, dossier_id)
    if view is None or not within_binding(
        actor, siren=view["siren"], departement=view["departement"]
    ):
        raise UnknownDossier(
            f"selection knows no dossier {dossier_id} (yet: the read model follows the log)"
        )
    if actor.role in (Role.applicant, Role.prefecture):
        return {k: v for k, v in view.items() if k not in queries.DELIBERATION}
    return view


Sort = Literal[
    "reference",
    "submitted_at",
    "departement",
    "applicant",
    "requested_eur",
    "weighted_score",
    "state",
]


@router.get("/campaigns/{campaign_id}/dossiers", responses=errors(401, 403, 404, 422, 503))
async def campaign_dossiers(
    campaign_id: CampaignId,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
    state: Annotated[State | None, Query(description="only the dossiers in this state")] = None,
    departement: Annotated[DepartementCode | None, Query()] = None,
    sort: Annotated[Sort, Query()] = "reference",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """A campaign's dossiers as selection knows them, a page at a time: an applicant its
    SIREN's, a préfecture its département's (whatever it asks), MILDECA and the auditors all."""
    campaign = find(campaigns, campaign_id)
    if actor.role is Role.prefecture:
        departement = actor.departement
    return await queries.campaign_dossiers(
        pool,
        campaign.id,
        state=state,
        departement=departement,
        siren=actor.siren,
        sort=sort,
        descending=order == "desc",
        page=page,
        per_page=per_page,
    )


@router.get("/campaigns/{campaign_id}/summary", responses=errors(401, 403, 404, 422, 503))
async def campaign_summary(
    campaign_id: CampaignId, actor: ActorDep, pool: PoolDep, campaigns: CampaignsDep
) -> dict[str, Any]:
    """A campaign's dashboard: its dossiers by state and by département, its envelope. A
    préfecture sees its département's."""
    require_role(
        actor,
        Role.instructor,
        Role.president,
        Role.auditor,
        Role.prefecture,
        to="read a campaign's dashboard",
    )
    return await queries.campaign_summary(
        pool, find(campaigns, campaign_id), departement=actor.departement
    )


Weight = Annotated[
    str,
    Field(
        pattern=r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$",
        description="0 to 100, two decimals at most, e.g. 2.5",
    ),
]


class Weights(_Body):
    """Other weights for the committee's six criteria; one not given keeps the campaign's."""

    adequacy: Weight | None = None
    innovation: Weight | None = None
    team_competence: Weight | None = None
    methodology: Weight | None = None
    partnership: Weight | None = None
    prefecture_opinion: Weight | None = None


@router.get(
    "/campaigns/{campaign_id}/ranking/reweighted", responses=errors(401, 403, 404, 422, 503)
)
async def reweighted_ranking(
    campaign_id: CampaignId,
    weights: Annotated[Weights, Query()],
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
) -> dict[str, Any]:
    """The campaign's ranking (past campaigns too) recomputed from the stored scores with the
    weights asked, beside the decided one: each dossier's rank, decided rank and places moved.
    Read-only: nothing is recorded."""
    require_role(actor, Role.instructor, Role.president, Role.auditor, to="re-rank a campaign")
    campaign = find(campaigns, campaign_id)
    asked = {c: None if w is None else Decimal(w) for c, w in weights.model_dump().items()}
    chosen = reranking.completed(asked, campaign.criteria_weights)
    if not any(chosen.values()):
        raise invalid("weights", "weights_all_zero", "at least one criterion must weigh")
    return await queries.reweighted(pool, campaign, chosen)


@router.get("/campaigns/{campaign_id}/ranking", responses=errors(401, 403, 404, 422, 503))
async def ranking(
    campaign_id: CampaignId, actor: ActorDep, pool: PoolDep, campaigns: CampaignsDep
) -> dict[str, Any]:
    require_role(
        actor, Role.instructor, Role.president, Role.auditor, to="read a campaign's ranking"
    )
    return await queries.ranking(pool, find(campaigns, campaign_id))
