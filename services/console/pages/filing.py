"""Filing a dossier: a form that mirrors the call, the rules explained beside the fields; the
applications service says what it refuses, and the reason shows beside the field, nothing filed.
The same form saves a draft instead, however incomplete (pages/drafts.py takes it from there)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms
from services.console.backend import Answer
from services.console.context import Console, ConsoleDep, PersonDep, page, require
from services.console.pages.common import campaigns, new_key, refusal, settled
from services.console.present import day
from services.console.sessions import Person, same_token
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
INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés."


def form_view(filing: forms.Filing, errors: dict[str, str]) -> dict[str, Any]:
    """What the form's parts (_fields.html) show: what was typed, the reasons beside the fields,
    and enough rows for every partner and budget line typed, one empty after them."""
    values = filing.values
    return {
        "typed": values,
        "objectives": filing.objectives,
        "errors": errors,
        "kinds": KINDS,
        "representatives": REPRESENTATIVES,
        "departements": [(c, c) for c in sorted(DEPARTEMENTS)],
        "partner_rows": range(forms.rows(values, "project.partners", forms.PARTNER_ROWS, 1)),
        "budget_rows": range(forms.rows(values, "budget.lines", forms.BUDGET_ROWS, 1)),
    }


def context(
    person: Any,
    open_campaigns: list[dict[str, Any]],
    filing: forms.Filing,
    errors: dict[str, str],
    error: str | None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "person": person,
        "campaigns": open_campaigns,
        "campaign_options": [
            (str(c["id"]), f"{c['title']} — jusqu'au {day(c['deadline'])}") for c in open_campaigns
        ],
        "form": form_view(filing, errors),
        "error": error,
        "key": new_key(),
        "action": "/deposer",
        "draft": None,
        **more,
    }


def field_errors(filing: forms.Filing, answer: Answer, prefix: str = "") -> dict[str, str]:
    """The service's reasons by the form's fields (`content.budget.lines.0.amount_eur` of a
    draft's filing: the budget's first line that holds something)."""
    return {
        filing.form_field(name.removeprefix(prefix)): reason
        for name, reason in answer.field_errors().items()
    }


def message(errors: dict[str, str], answer: Answer) -> str:
    return INVALID if errors else refusal(answer)


async def open_campaigns_of(console: Console, person: Person) -> list[dict[str, Any]]:
    return [c for c in await campaigns(console, person) if c.get("open")]


@router.get("/deposer")
async def form(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.applicant)
    open_campaigns = await open_campaigns_of(console, person)
    asked = request.query_params.get("campagne", "")  # a link to one call's form
    chosen = {"campagne": asked} if asked in [str(c["id"]) for c in open_campaigns] else {}
    return page(
        request,
        "filing.html",
        **context(person, open_campaigns, forms.Filing(values=chosen), {}, None),
    )


async def dossier_shown(console: Console, person: Person, dossier_id: str) -> bool:
    """Wait until the applications service's read shows the dossier just filed."""

    async def shown() -> bool:
        return (await console.services.get(person, "applications", f"/dossiers/{dossier_id}")).ok

    return await settled(shown)


async def draft_saved(console: Console, person: Person, draft_id: str, answer: Answer) -> None:
    """Wait until the read of the draft shows the content just saved."""
    saved_at = next(
        (e["data"].get("saved_at") for e in answer.body.get("recorded", []) if e.get("data")),
        None,
    )

    async def shown() -> bool:
        read = await console.services.get(person, "applications", f"/drafts/{draft_id}")
        return read.ok and (saved_at is None or _same_instant(read.body.get("saved_at"), saved_at))

    await settled(shown)


def _same_instant(a: Any, b: Any) -> bool:
    try:
        return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))
    except ValueError:
        return False


@router.post("/deposer")
async def file(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.applicant)
    data = await request.form()
    assert person.habilitation is not None and person.habilitation.siren is not None
    filing = forms.filing(data, person.habilitation.siren)
    open_campaigns = await open_campaigns_of(console, person)
    if not same_token(person.csrf, str(data.get("csrf", ""))):
        return page(
            request,
            "filing.html",
            status=400,
            **context(
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
            **context(
                person, open_campaigns, filing, errors, "Le formulaire contient des erreurs."
            ),
        )
    key = str(data.get("key", "")) or None
    if data.get("action") == "brouillon":  # whatever was typed, kept as a draft
        answer = await console.services.post(
            person,
            "applications",
            f"/campaigns/{campaign}/drafts",
            {"content": forms.draft_content(filing)},
            idempotency_key=key,
        )
        if answer.ok:
            draft_id = str(answer.body["draft_id"])
            await draft_saved(console, person, draft_id, answer)
            return RedirectResponse(f"/brouillons/{draft_id}?fait=brouillon", status_code=303)
        errors = field_errors(filing, answer, "content.")
        return page(
            request,
            "filing.html",
            status=answer.status,
            **context(person, open_campaigns, filing, errors, message(errors, answer)),
        )
    answer = await console.services.post(
        person,
        "applications",
        f"/campaigns/{campaign}/dossiers",
        filing.dossier,
        idempotency_key=key,
    )
    if answer.ok:
        dossier_id = str(answer.body["dossier_id"])
        await dossier_shown(console, person, dossier_id)
        return RedirectResponse(f"/dossiers/{dossier_id}?fait=depot", status_code=303)
    errors = field_errors(filing, answer)
    return page(
        request,
        "filing.html",
        status=answer.status,
        **context(person, open_campaigns, filing, errors, message(errors, answer)),
    )
