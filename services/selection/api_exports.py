"""Exports of a campaign: its dossiers (filtered as the instructors' table) and its ranking, as
CSV, XLSX or ODS, streamed, live or as they stood at an instant (docs/exports.md). MILDECA's
agents and the auditors only: the committee's scores are in them."""

from decimal import Decimal
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from services.selection import exports
from services.selection.queries import State
from shared.contracts.selection import Outcome
from shared.contracts.values import DepartementCode
from shared.kernel import exports as tables
from shared.kernel.deps import ActorDep, CampaignId, CampaignsDep, PoolDep
from shared.kernel.openapi import api_router
from shared.language.actors import Role, require_role
from shared.language.campaigns import find

router = api_router()
_READERS = (Role.instructor, Role.president, Role.auditor)
_TABLE = tables.route("the table, one row per dossier, its columns in docs/exports.md")


@router.get("/campaigns/{campaign_id}/dossiers/export.{format}", **_TABLE)
async def export_dossiers(
    campaign_id: CampaignId,
    format: tables.Format,
    console_url: tables.ConsoleUrlDep,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
    at: tables.AsOfDep,
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
    rows = exports.dossiers(pool, campaign.id, chosen, at)
    columns = exports.dossier_columns(console_url)
    return tables.response(format, tables.dated(f"{campaign.id}-dossiers", at), columns, rows)


@router.get("/campaigns/{campaign_id}/ranking/export.{format}", **_TABLE)
async def export_ranking(
    campaign_id: CampaignId,
    format: tables.Format,
    console_url: tables.ConsoleUrlDep,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
    at: tables.AsOfDep,
) -> Response:
    """The campaign's ranking as decided, best weighted score first."""
    require_role(actor, *_READERS, to="export a campaign's ranking")
    campaign = find(campaigns, campaign_id)
    rows = exports.ranking(pool, campaign.id, at)
    columns = exports.ranking_columns(console_url)
    return tables.response(format, tables.dated(f"{campaign.id}-ranking", at), columns, rows)
