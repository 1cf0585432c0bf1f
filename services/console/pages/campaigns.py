"""A campaign as MILDECA and the préfectures follow it: its dashboard (dossiers by state and by
département, the envelope granted and left), the table of its dossiers (filters, sorting,
pages, swapped in place by htmx), and its ranking beside the envelope."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.context import ConsoleDep, PersonDep, page, require
from services.console.pages.common import campaign_of, campaigns, refusal
from shared.language.actors import Role
from shared.language.referentials import DEPARTEMENTS

router = APIRouter(include_in_schema=False)

AGENTS = (Role.prefecture, Role.instructor, Role.president, Role.auditor)
MILDECA = (Role.instructor, Role.president, Role.auditor)
SORTS = {
    "reference": "Référence",
    "submitted_at": "Date de dépôt",
    "departement": "Département",
    "applicant": "Porteur",
    "requested_eur": "Montant demandé",
    "weighted_score": "Note du comité",
    "state": "État",
}


@router.get("/campagnes")
async def dashboard(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, *AGENTS)
    campaign = await campaign_of(console, person, request)
    summary = await console.services.get(person, "selection", f"/campaigns/{campaign}/summary")
    return page(
        request,
        "dashboard.html",
        person=person,
        campaign=campaign,
        campaigns=await campaigns(console, person),
        summary=summary.body if summary.ok else None,
        error=None if summary.ok else refusal(summary),
    )


@router.get("/campagnes/tableau")
async def table(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, *AGENTS)
    campaign = await campaign_of(console, person, request)
    q = request.query_params
    default_state = "awaiting_opinion" if person.role is Role.prefecture else ""
    asked: dict[str, Any] = {
        "state": q.get("etat", default_state),
        "departement": q.get("departement", ""),
        "sort": q.get("tri", "reference"),
        "order": q.get("ordre", "asc"),
        "page": q.get("page", "1"),
        "per_page": q.get("par_page", "25"),
    }
    listed = await console.services.get(
        person, "selection", f"/campaigns/{campaign}/dossiers", asked
    )
    body = listed.body if listed.ok else {"dossiers": [], "total": 0, "page": 1, "per_page": 25}
    pages = max(1, -(-int(str(body["total"])) // int(str(body["per_page"]))))
    return page(
        request,
        "table.html",
        person=person,
        campaign=campaign,
        asked=asked,
        listed=body,
        pages=pages,
        sorts=SORTS,
        error=None if listed.ok else refusal(listed),
        campaigns=await campaigns(console, person),
        departements=sorted(DEPARTEMENTS),
    )


@router.get("/classement")
async def ranking(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, *MILDECA)
    campaign = await campaign_of(console, person, request)
    ranked = await console.services.get(person, "selection", f"/campaigns/{campaign}/ranking")
    return page(
        request,
        "ranking.html",
        person=person,
        campaign=campaign,
        campaigns=await campaigns(console, person),
        ranking=ranked.body if ranked.ok else None,
        error=None if ranked.ok else refusal(ranked),
    )
