"""Exports of a campaign: its dossiers (filtered as the instructors' table) and its ranking, as
CSV, XLSX or ODS, streamed (docs/exports.md). MILDECA's agents and the auditors only: the
committee's scores are in them."""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from services.selection import exports
from services.selection.queries import State
from shared.contracts.selection import Outcome
from shared.contracts.values import DepartementCode
from shared.kernel import exports as tables
from shared.kernel.deps import ActorDep, CampaignId, CampaignsDep, PoolDep
from shared.kernel.openapi import api_router, errors
from shared.language.actors import Role, require_role
from shared.language.campaigns import find

router = api_router()
Format = Literal["csv", "xlsx", "ods"]
_READERS = (Role.instructor, Role.president, Role.auditor)
_TABLE: dict[str, Any] = {
    "response_class": Response,
    "responses": {
        200: {
            "description": "the table, one row per dossier, its columns in docs/exports.md",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in tables.MEDIA_TYPES.values()
            },
        },
        **errors(401, 403, 404, 422, 503),
    },
}


def _console_url(request: Request) -> str:
    return str(request.app.state.runtime.settings.console_url).rstrip("/")


@router.get("/campaigns/{campaign_id}/dossiers/export.{format}", **_TABLE)
async def export_dossiers(
    campaign_id: CampaignId,
    format: Format,
    request: Request,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
    state: Annotated[State | None, Query(description="only the dossiers in this state")] = None,
    departement: Annotated[DepartementCode | None, Query()] = None,
    outcome: Annotated[Outcome | None, Query(description="only those so decided")] = None,
    min_score: Annotated[
        str | None,
        Query(pattern=r"^[0-5](\.[0-9]{1,2})?$", description="a weighted score at least this"),
    ] = None,
) -> Response:
    """The campaign's dossiers, one row each, in reference order."""
    require_role(actor, *_READERS, to="export a campaign's dossiers")
    campaign = find(campaigns, campaign_id)
    least = Decimal(min_score) if min_score is not None else None
    chosen = exports.Filters(state, departement, outcome.value if outcome else None, least)
    rows = exports.dossiers(pool, campaign.id, chosen)
    columns = exports.dossier_columns(_console_url(request))
    return tables.response(format, f"{campaign.id}-dossiers", columns, rows)


@router.get("/campaigns/{campaign_id}/ranking/export.{format}", **_TABLE)
async def export_ranking(
    campaign_id: CampaignId,
    format: Format,
    request: Request,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
) -> Response:
    """The campaign's ranking as decided, best weighted score first."""
    require_role(actor, *_READERS, to="export a campaign's ranking")
    campaign = find(campaigns, campaign_id)
    rows = exports.ranking(pool, campaign.id)
    columns = exports.ranking_columns(_console_url(request))
    return tables.response(format, f"{campaign.id}-ranking", columns, rows)
