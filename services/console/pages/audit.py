"""The auditor's pages: a dossier's history across the four services (time, actor, event, what
caused it), the dossier as it stood at a chosen instant, the check of every chain (as published,
and each service's store against what it published), and the offline bundle."""

import json
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.backend import SERVICES
from services.console.context import ConsoleDep, PersonDep, page, require
from services.console.pages.common import refusal
from shared.language.actors import Role

router = APIRouter(include_in_schema=False)

PARIS = ZoneInfo("Europe/Paris")


def _instant(text: str) -> str | None:
    """A date and time typed in a form (Paris time) as the instant the services take."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=PARIS)).isoformat()


@router.get("/controle")
async def search(request: Request, person: PersonDep) -> Response:
    require(person, Role.auditor)
    asked = request.query_params.get("dossier", "").strip()
    if asked:
        return RedirectResponse(f"/controle/{quote(asked)}", status_code=303)
    return page(request, "audit_search.html", person=person)


@router.get("/controle/{dossier_id}")
async def history(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.auditor)
    typed = request.query_params.get("a_la_date", "")
    as_of = _instant(typed)
    answer = await console.services.get(
        person, "notifications", f"/audit/dossiers/{dossier_id}", {"as_of": as_of}
    )
    return page(
        request,
        "audit.html",
        person=person,
        dossier_id=dossier_id,
        typed=typed,
        bad_instant=bool(typed) and as_of is None,
        audit=answer.body if answer.ok else None,
        error=None if answer.ok else refusal(answer),
    )


@router.get("/controle/{dossier_id}/verification")
async def verification(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    """Each service's store checked against what it published (an htmx fragment)."""
    require(person, Role.auditor)
    checks = []
    for service in SERVICES:
        answer = await console.services.get(person, service, f"/audit/streams/{dossier_id}")
        checks.append(
            {
                "service": service,
                "found": answer.ok,
                "status": answer.status,
                "result": answer.body if answer.ok else None,
            }
        )
    return page(
        request, "audit_verification.html", person=person, checks=checks, dossier_id=dossier_id
    )


@router.get("/controle/{dossier_id}/bundle")
async def bundle(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.auditor)
    path = f"/audit/dossiers/{dossier_id}/bundle"
    answer = await console.services.get(person, "notifications", path)
    if not answer.ok:
        return page(
            request,
            "refused.html",
            status=answer.status,
            person=person,
            reason=refusal(answer),
            back=f"/controle/{dossier_id}",
        )

    return Response(
        json.dumps(answer.body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers=answer.headers,
    )
