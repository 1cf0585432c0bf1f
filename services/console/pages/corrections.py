"""Corrections: MILDECA asks the collectivité to correct parts of its dossier (which, why, by
when) instead of refusing it; the collectivité corrects those parts, and those only, in the
filing form's own fields, prefilled with the dossier as it stands. The dossier's page shows the
request, and the amendments in its history with each value before and after."""

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms
from services.console.context import Console, ConsoleDep, PersonDep, page, require
from services.console.pages.common import new_key, recorded, refusal, settled
from services.console.pages.dossiers import show_dossier
from services.console.pages.filing import INVALID, field_errors, form_view
from services.console.present import FIELD_LABELS
from services.console.sessions import Person, same_token
from shared.language.actors import Role
from shared.language.campaigns import PARIS

router = APIRouter(include_in_schema=False)

LAST_SECOND = time(23, 59, 59)


def due_at(typed: str) -> str | None:
    """The deadline a date typed in the form means: the end of that day, in Paris."""
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        return None
    return datetime.combine(day, LAST_SECOND, tzinfo=PARIS).isoformat()


async def _filed(console: Console, person: Person, dossier_id: str) -> dict[str, Any] | None:
    answer = await console.services.get(person, "applications", f"/dossiers/{dossier_id}")
    return answer.body if answer.ok and isinstance(answer.body, dict) else None


@router.post("/dossiers/{dossier_id}/demande-de-correction")
async def ask(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    """MILDECA asks for a correction: the parts to correct, the reason, the deadline."""
    require(person, Role.instructor, Role.president)
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.multi_items() if isinstance(v, str)}
    asked = [str(f) for f in form.getlist("fields")]
    name = "demande-de-correction"

    async def refused(message: str, fields: dict[str, str], status: int) -> Response:
        return await show_dossier(
            request,
            person,
            console,
            dossier_id,
            status=status,
            values={**values, "fields": ",".join(asked)},
            errors={name: {"message": message, "fields": fields}},
        )

    if not same_token(person.csrf, values.get("csrf")):
        return await refused("Ce formulaire a expiré : rechargez la page et recommencez.", {}, 400)
    body: dict[str, Any] = {"fields": asked, "reason": values.get("reason", "")}
    typed = values.get("due_on", "")
    if typed:
        body["due_at"] = due_at(typed)
        if body["due_at"] is None:
            return await refused(INVALID, {"due_on": "Indiquez une date (jj/mm/aaaa)."}, 422)
    answer = await console.services.post(
        person,
        "applications",
        f"/dossiers/{dossier_id}/correction-request",
        body,
        idempotency_key=values.get("key") or None,
    )
    if not answer.ok:
        fields: dict[str, str] = {}
        for field, reason in answer.field_errors().items():
            fields.setdefault(
                {"due_at": "due_on"}.get(field, field.split(".")[0]), reason
            )  # fields.3 → the fields' group
        return await refused(INVALID if fields else refusal(answer), fields, answer.status)
    request_id = recorded(answer, "request_id")

    async def shown() -> bool:
        filed = await _filed(console, person, dossier_id)
        return bool(filed and (filed.get("correction") or {}).get("request_id") == request_id)

    await settled(shown)
    return RedirectResponse(
        f"/dossiers/{dossier_id}?fait=demande-de-correction#correction", status_code=303
    )


def _amendment_page(
    request: Request,
    person: Person,
    filed: dict[str, Any],
    filing: forms.Filing,
    errors: dict[str, str],
    error: str | None,
    status: int = 200,
) -> Response:
    correction = filed.get("correction") or {}
    return page(
        request,
        "amendment.html",
        status=status,
        person=person,
        filed=filed,
        correction=correction,
        asked=[f for f in correction.get("fields", []) if f in FIELD_LABELS],
        form=form_view(filing, errors),
        error=error,
        key=new_key(),
    )


@router.get("/dossiers/{dossier_id}/correction")
async def amendment_form(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    """The parts asked, in the filing form's fields, prefilled with the dossier as it stands."""
    require(person, Role.applicant)
    filed = await _filed(console, person, dossier_id)
    if filed is None or not filed.get("correction"):
        return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)
    return _amendment_page(request, person, filed, forms.values_of(filed.get("filed")), {}, None)


@router.post("/dossiers/{dossier_id}/correction")
async def amend(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.applicant)
    assert person.habilitation is not None and person.habilitation.siren is not None
    form = await request.form()
    filing = forms.filing(form, person.habilitation.siren)
    filed = await _filed(console, person, dossier_id)
    if filed is None or not filed.get("correction"):
        return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)
    if not same_token(person.csrf, str(form.get("csrf", ""))):
        expired = "Ce formulaire a expiré : envoyez-le à nouveau."
        return _amendment_page(request, person, filed, filing, {}, expired, 400)
    asked = list(filed["correction"].get("fields", []))
    answer = await console.services.post(
        person,
        "applications",
        f"/dossiers/{dossier_id}/amendment",
        {"changes": forms.changes(filing, asked)},
        idempotency_key=str(form.get("key", "")) or None,
    )
    if not answer.ok:
        errors = field_errors(filing, answer, "changes.")
        general = errors.pop("changes", None)  # nothing changed: said above the form
        error = INVALID if errors else (general or refusal(answer))
        return _amendment_page(request, person, filed, filing, errors, error, answer.status)

    async def shown() -> bool:
        now = await _filed(console, person, dossier_id)
        return bool(now and not now.get("correction"))

    await settled(shown)
    return RedirectResponse(f"/dossiers/{dossier_id}?fait=correction", status_code=303)
