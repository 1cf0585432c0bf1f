"""A campaign's payments as CSV, XLSX or ODS, streamed, live or as they stood at an instant
(docs/exports.md): MILDECA's agents and the auditors every département's, a préfecture its own
(as the campaign's lists answer it), an applicant none."""

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from services.payments import exports
from shared.contracts.values import DepartementCode
from shared.kernel import exports as tables
from shared.kernel.deps import ActorDep, CampaignId, CampaignsDep, PoolDep
from shared.kernel.openapi import api_router
from shared.language.actors import Role, require_role
from shared.language.campaigns import find

router = api_router()
_READERS = (Role.instructor, Role.president, Role.auditor, Role.prefecture)


@router.get(
    "/campaigns/{campaign_id}/payments/export.{format}",
    **tables.route("the table, one row per entry of each dossier's plan (docs/exports.md)"),
)
async def export_payments(
    campaign_id: CampaignId,
    format: tables.Format,
    console_url: tables.ConsoleUrlDep,
    actor: ActorDep,
    pool: PoolDep,
    campaigns: CampaignsDep,
    at: tables.AsOfDep,
    departement: Annotated[
        DepartementCode | None, Query(description="only this département's (a préfecture: its own)")
    ] = None,
) -> Response:
    """The campaign's committed dossiers, one row per entry of their plan, by reference."""
    require_role(actor, *_READERS, to="export a campaign's payments")
    campaign = find(campaigns, campaign_id)
    if actor.role is Role.prefecture:
        departement = actor.departement
    rows = exports.payments(pool, campaign.id, departement, at)
    columns = exports.payment_columns(console_url)
    name = tables.dated(f"{campaign.id}-payments", at)
    return tables.response(format, name, columns, rows)
