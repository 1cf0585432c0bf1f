"""Filing a dossier: a form that mirrors the call, the rules explained beside the fields; the
applications service says what it refuses, and the reason shows beside the field, nothing filed."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms
from services.console.context import ConsoleDep, PersonDep, page, require
from services.console.pages.common import campaigns, new_key, refusal
from services.console.present import day
from services.console.sessions import same_token
from shared.language.actors import Role
from shared.language.referentials import DEPARTEMENTS

router = APIRouter(include_in_schema=False)

KINDS = [("commune", "Commune"), ("intercommunalite", "Intercommunalité")]
REPRESENTATIVES = [
    ("maire", "Maire"),
    ("president", "Président ou présidente d'intercommunalité"),
    ("adjoint", "Adjoint ou adjointe"),
    ("other", "Autre"),
]


def _context(
    person: Any,
    open_campaigns: list[dict[str, Any]],
    filing: forms.Filing,
    errors: dict[str, str],
    error: str | None,
) -> dict[str, Any]:
    return {
        "person": person,
        "campaigns": open_campaigns,
        "values": filing.values,
        "campaign_options": [
            (str(c["id"]), f"{c['title']} — jusqu'au {day(c['deadline'])}") for c in open_campaigns
        ],
        "objectives": filing.objectives,
        "errors": errors,
        "error": error,
        "key": new_key(),
        "kinds": KINDS,
        "representatives": REPRESENTATIVES,
        "departements": [(c, c) for c in sorted(DEPARTEMENTS)],
        "partner_rows": range(forms.PARTNER_ROWS),
        "budget_rows": range(forms.BUDGET_ROWS),
    }


@router.get("/deposer")
async def form(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.applicant)
    open_campaigns = [c for c in await campaigns(console, person) if c.get("open")]
    asked = request.query_params.get("campagne", "")  # a link to one call's form
    chosen = {"campagne": asked} if asked in [str(c["id"]) for c in open_campaigns] else {}
    return page(
        request,
        "filing.html",
        **_context(person, open_campaigns, forms.Filing(values=chosen), {}, None),
    )


@router.post("/deposer")
async def file(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.applicant)
    data = await request.form()
    assert person.habilitation is not None and person.habilitation.siren is not None
    filing = forms.filing(data, person.habilitation.siren)
    open_campaigns = [c for c in await campaigns(console, person) if c.get("open")]
    if not same_token(person.csrf, str(data.get("csrf", ""))):
        return page(
            request,
            "filing.html",
            status=400,
            **_context(
                person, open_campaigns, filing, {}, "Ce formulaire a expiré : envoyez-le à nouveau."
            ),
        )
    campaign = str(data.get("campagne", ""))
    if campaign not in [str(c["id"]) for c in open_campaigns]:
        errors = {"campagne": "Choisissez un appel à projets ouvert."}
        return page(
            request,
            "filing.html",
            status=422,
            **_context(
                person, open_campaigns, filing, errors, "Le formulaire contient des erreurs."
            ),
        )
    answer = await console.services.post(
        person,
        "applications",
        f"/campaigns/{campaign}/dossiers",
        filing.dossier,
        idempotency_key=str(data.get("key", "")) or None,
    )
    if answer.ok:
        return RedirectResponse(
            f"/dossiers/{answer.body['dossier_id']}?fait=depot", status_code=303
        )
    errors = {filing.form_field(k): v for k, v in answer.field_errors().items()}
    message = (
        "Le formulaire contient des erreurs : corrigez les champs signalés."
        if errors
        else refusal(answer)
    )
    return page(
        request,
        "filing.html",
        status=answer.status,
        **_context(person, open_campaigns, filing, errors, message),
    )
