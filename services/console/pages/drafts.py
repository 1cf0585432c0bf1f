"""Drafts: the applicant comes back to a dossier it has not filed yet (the filing form, as it
left it), shows it to the préfecture of its département, reads the préfecture's comments, and
files it; the préfecture lists the drafts shown to it, reads one and comments. A draft is not a
filing: the applications service says so, and keeps it apart."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms
from services.console.backend import Answer
from services.console.context import Console, ConsoleDep, PersonDep, page, require
from services.console.pages.common import new_key, refusal, settled
from services.console.pages.filing import (
    INVALID,
    context,
    dossier_shown,
    draft_saved,
    field_errors,
)
from services.console.sessions import Person, same_token
from shared.language.actors import Role

router = APIRouter(include_in_schema=False)

DONE = {
    "brouillon": "Votre brouillon est enregistré : reprenez-le quand vous voulez depuis « Mes "
    "dossiers ».",
    "partage": "Votre brouillon est présenté à la préfecture : elle le lit et peut le commenter.",
    "commentaire": "Votre commentaire est envoyé à la collectivité.",
}
UNKNOWN = "Ce brouillon n'existe pas, ou n'est pas de votre ressort."


def _unknown(request: Request, person: Person) -> Response:
    return page(
        request,
        "refused.html",
        status=404,
        person=person,
        title="Brouillon introuvable",
        heading="Aucun brouillon à cette adresse",
        reason=UNKNOWN,
        back="/brouillons" if person.role is Role.prefecture else "/dossiers",
    )


def title_of(draft: dict[str, Any]) -> str:
    return str(forms.at(draft.get("content"), "project.title") or draft.get("title") or "") or (
        "Brouillon sans titre"
    )


async def _draft(console: Console, person: Person, draft_id: str) -> dict[str, Any] | None:
    answer = await console.services.get(person, "applications", f"/drafts/{draft_id}")
    return answer.body if answer.ok and isinstance(answer.body, dict) else None


async def _campaign_title(console: Console, person: Person, campaign_id: str) -> str:
    answer = await console.services.get(person, "applications", "/campaigns")
    known = answer.body if answer.ok and isinstance(answer.body, list) else []
    return next((str(c["title"]) for c in known if c["id"] == campaign_id), campaign_id)


@router.get("/brouillons")
async def listed(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    """The drafts shown to a préfecture (an applicant's are on « Mes dossiers »)."""
    if person.role is Role.applicant:
        return RedirectResponse("/dossiers#brouillons", status_code=303)
    require(person, Role.prefecture)
    answer = await console.services.get(person, "applications", "/drafts")
    return page(
        request,
        "drafts.html",
        person=person,
        drafts=answer.body if answer.ok else [],
        error=None if answer.ok else refusal(answer),
    )


async def _show(
    request: Request,
    person: Person,
    console: Console,
    draft: dict[str, Any],
    *,
    filing: forms.Filing | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
    typed: str = "",
) -> Response:
    done = DONE.get(request.query_params.get("fait", ""))
    title = await _campaign_title(console, person, str(draft["campaign_id"]))
    if person.role is Role.prefecture:
        return page(
            request,
            "draft.html",
            status=status,
            person=person,
            draft=draft,
            title=title_of(draft),
            campaign_title=title,
            done=done,
            error=error,
            errors=errors or {},
            typed=typed,
            key=new_key(),
        )
    shown = filing or forms.values_of(draft.get("content"))
    return page(
        request,
        "filing.html",
        status=status,
        **context(
            person,
            [],
            shown,
            errors or {},
            error,
            draft=draft,
            draft_title=title_of(draft),
            campaign_title=title,
            action=f"/brouillons/{draft['draft_id']}",
            done=done,
        ),
    )


@router.get("/brouillons/{draft_id}")
async def show(draft_id: str, request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.applicant, Role.prefecture)
    draft = await _draft(console, person, draft_id)
    if draft is None:
        return _unknown(request, person)
    if draft.get("filed_as") and person.role is Role.applicant:
        return RedirectResponse(f"/dossiers/{draft_id}", status_code=303)
    return await _show(request, person, console, draft)


@router.post("/brouillons/{draft_id}")
async def save(draft_id: str, request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    """The applicant's draft saved as the form now holds it; then, as asked, shown to the
    préfecture, or filed (its errors beside the fields, as for a filing)."""
    require(person, Role.applicant)
    assert person.habilitation is not None and person.habilitation.siren is not None
    data = await request.form()
    filing = forms.filing(data, person.habilitation.siren)
    draft = await _draft(console, person, draft_id)
    if draft is None:
        return _unknown(request, person)
    if not same_token(person.csrf, str(data.get("csrf", ""))):
        expired = "Ce formulaire a expiré : envoyez-le à nouveau."
        return await _show(
            request, person, console, draft, filing=filing, error=expired, status=400
        )
    key = str(data.get("key", "")) or new_key()
    action = str(data.get("action", "brouillon"))
    services = console.services
    saved = await services.post(
        person,
        "applications",
        f"/drafts/{draft_id}/content",
        {"content": forms.draft_content(filing)},
        idempotency_key=f"{key}.contenu",
    )
    then = saved
    if saved.ok and action == "partager":
        then = await services.post(
            person, "applications", f"/drafts/{draft_id}/sharing", {}, f"{key}.partage"
        )
    elif saved.ok and action == "deposer":
        then = await services.post(
            person, "applications", f"/drafts/{draft_id}/filing", {}, f"{key}.depot"
        )
    if then.ok:
        if action == "deposer":
            await dossier_shown(console, person, draft_id)
            return RedirectResponse(f"/dossiers/{draft_id}?fait=depot", status_code=303)
        await draft_saved(console, person, draft_id, saved)
        if action == "partager":

            async def shared() -> bool:
                read = await _draft(console, person, draft_id)
                return bool(read and read.get("shared_at"))

            await settled(shared)
        done = "partage" if action == "partager" else "brouillon"
        return RedirectResponse(f"/brouillons/{draft_id}?fait={done}", status_code=303)
    errors = field_errors(filing, then, "content.")
    draft = await _draft(console, person, draft_id) or draft
    return await _show(
        request,
        person,
        console,
        draft,
        filing=filing,
        errors=errors,
        error=INVALID if errors else refusal_of_draft(then),
        status=then.status,
    )


@router.post("/brouillons/{draft_id}/commentaires")
async def comment(
    draft_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    """The préfecture's comment on a draft shown to it; the applicant reads it on its draft."""
    require(person, Role.prefecture)
    data = await request.form()
    text = str(data.get("text", "")).strip()
    draft = await _draft(console, person, draft_id)
    if draft is None:
        return _unknown(request, person)
    if not same_token(person.csrf, str(data.get("csrf", ""))):
        expired = "Ce formulaire a expiré : rechargez la page et recommencez."
        return await _show(request, person, console, draft, error=expired, status=400, typed=text)
    answer = await console.services.post(
        person,
        "applications",
        f"/drafts/{draft_id}/comments",
        {"text": text},
        idempotency_key=str(data.get("key", "")) or None,
    )
    if answer.ok:
        count = len(draft.get("comments") or [])

        async def shown() -> bool:
            read = await _draft(console, person, draft_id)
            return bool(read and len(read.get("comments") or []) > count)

        await settled(shown)
        return RedirectResponse(
            f"/brouillons/{draft_id}?fait=commentaire#commentaires", status_code=303
        )
    errors = answer.field_errors()
    return await _show(
        request,
        person,
        console,
        draft,
        errors=errors,
        error=INVALID if errors else refusal_of_draft(answer),
        status=answer.status,
        typed=text,
    )


def refusal_of_draft(answer: Answer) -> str:
    return UNKNOWN if answer.status == 404 else refusal(answer)
