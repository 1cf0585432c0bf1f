"""The committee member's pages: the dossiers they review, and each one as its reviewer reads it.
They first declare their interests in it (no conflict, or the conflict that recuses them); then
they read it and score its six criteria alone, and read the others' reviews once theirs is in. A
recused member reads nothing of it. The services decide all of it; the console shows it."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms
from services.console.backend import Answer
from services.console.context import Console, ConsoleDep, PersonDep, page, require
from services.console.pages.common import new_key, not_found, refusal, settled
from services.console.pages.dossiers import scores_of
from services.console.sessions import Person, same_token
from shared.language.actors import Role

router = APIRouter(include_in_schema=False)

Form = dict[str, str]
INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés."
EXPIRED = "Ce formulaire a expiré : rechargez la page et recommencez."
DONE = {
    "declaration": "Votre déclaration d'intérêts est enregistrée.",
    "notation": "Votre notation est enregistrée : vous lisez maintenant celles des autres "
    "examinateurs qui ont noté.",
}


async def _mine(console: Console, person: Person) -> Answer:
    return await console.services.get(person, "selection", "/reviews")


async def _open(console: Console, person: Person) -> Answer:
    """The dossiers the member may take themselves (campaigns whose members volunteer)."""
    return await console.services.get(person, "selection", "/reviews/open")


def _entry(listed: Answer, dossier_id: str) -> dict[str, Any] | None:
    rows = listed.body if listed.ok and isinstance(listed.body, list) else []
    return next((r for r in rows if str(r.get("dossier_id")) == dossier_id), None)


@router.get("/examens")
async def reviews(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    """The dossiers the committee member reviews, with where they stand on each."""
    require(person, Role.reviewer)
    listed, offered = await _mine(console, person), await _open(console, person)
    return page(
        request,
        "reviews.html",
        person=person,
        reviews=listed.body if listed.ok else [],
        offered=offered.body if offered.ok else [],
        error=None if listed.ok else refusal(listed),
    )


async def show_review(
    request: Request,
    person: Person,
    console: Console,
    dossier_id: str,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    values: Form | None = None,
) -> Response:
    """The dossier as its reviewer reads it: the declaration of interests first, then the
    dossier and the review; after a refused form, its reasons and what was typed."""
    read = await console.services.get(person, "selection", f"/dossiers/{dossier_id}/review")
    entry = _entry(await _mine(console, person), dossier_id)
    if entry is None:  # not theirs yet: one they may take, declaring their interests on it
        entry = _entry(await _open(console, person), dossier_id)
    if entry is None and not read.ok:
        return not_found(
            request,
            person,
            title="Dossier introuvable",
            heading="Aucun dossier à examiner à cette adresse",
            reason="Ce dossier n'existe pas, ou vous n'en êtes pas examinateur.",
            back="/examens",
        )
    review = read.body if read.ok else None
    stage = (entry or {}).get("status", "to_declare")
    filed: dict[str, Any] = {}
    if review is not None:
        stage = "reviewed" if review.get("my_review") else "cleared"
        # The dossier as filed, which applications opens to a reviewer once they declared no
        # conflict (it hears the declaration on the bus: a moment later, at worst).
        as_filed = await console.services.get(person, "applications", f"/dossiers/{dossier_id}")
        filed = as_filed.body if as_filed.ok and isinstance(as_filed.body, dict) else {}
    return page(
        request,
        "review.html",
        status=status,
        person=person,
        dossier_id=dossier_id,
        entry=entry or {},
        review=review,
        filed=filed,
        stage=stage,
        done=DONE.get(request.query_params.get("fait", "")),
        error=error,
        values=values if values is not None else _typed(review),
        key=new_key(),
    )


def _typed(review: dict[str, Any] | None) -> Form:
    """The review form as the reviewer left it: their review, when they gave one."""
    mine = (review or {}).get("my_review") or {}
    if not mine:
        return {}
    scores = {f"scores.{c}": str(v) for c, v in mine.get("scores", {}).items()}
    return {**scores, "proposed_eur": str(mine["proposed_eur"]), "comment": mine["comment"]}


@router.get("/examens/{dossier_id}")
async def show(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.reviewer)
    return await show_review(request, person, console, dossier_id)


async def _form(request: Request) -> Form:
    return {k: str(v).strip() for k, v in (await request.form()).items() if isinstance(v, str)}


def _declaration(form: Form) -> dict[str, Any] | None:
    """What the reviewer declares; None when they ticked neither (nothing is then sent: no
    conflict is never presumed)."""
    if form.get("declaration") == "aucun":
        return {"conflict": None}
    if form.get("declaration") == "conflit":
        return {"conflict": form.get("conflict", ""), "details": form.get("details") or None}
    return None


def _refused(answer: Answer, where: str) -> dict[str, Any]:
    """A refused form's message and reasons by field; a reason about the whole form (a rule
    across fields) goes beside `where`."""
    fields = {(name or where): reason for name, reason in answer.field_errors().items()}
    return {"message": INVALID if fields else refusal(answer), "fields": fields}


@router.post("/examens/{dossier_id}/declaration")
async def declare(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.reviewer)
    form = await _form(request)
    body = _declaration(form)

    async def again(error: dict[str, Any], status: int) -> Response:
        error["form"] = "declaration"
        return await show_review(
            request, person, console, dossier_id, status=status, error=error, values=form
        )

    if not same_token(person.csrf, form.get("csrf")):
        return await again({"message": EXPIRED, "fields": {}}, 400)
    if body is None:
        choose = "Cochez l'une des deux déclarations."
        return await again({"message": INVALID, "fields": {"declaration": choose}}, 422)
    answer = await console.services.post(
        person,
        "selection",
        f"/dossiers/{dossier_id}/interests",
        body,
        idempotency_key=form.get("key") or None,
    )
    if not answer.ok:
        return await again(_refused(answer, "details"), answer.status)
    if body["conflict"] is not None:  # the list says it once it follows the log

        async def recused() -> bool:
            entry = _entry(await _mine(console, person), dossier_id)
            return (entry or {}).get("status") == "recused"

        await settled(recused)
    return RedirectResponse(f"/examens/{dossier_id}?fait=declaration", status_code=303)


@router.post("/examens/{dossier_id}/notation")
async def score(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.reviewer)
    form = await _form(request)
    if not same_token(person.csrf, form.get("csrf")):
        error = {"message": EXPIRED, "fields": {}, "form": "notation"}
        return await show_review(
            request, person, console, dossier_id, status=400, error=error, values=form
        )
    body = {
        "scores": scores_of(form),
        "proposed_eur": forms.amount(form.get("proposed_eur", "")),
        "comment": form.get("comment", ""),
    }
    answer = await console.services.post(
        person,
        "selection",
        f"/dossiers/{dossier_id}/review",
        body,
        idempotency_key=form.get("key") or None,
    )
    if not answer.ok:
        error = {**_refused(answer, "comment"), "form": "notation"}
        return await show_review(
            request, person, console, dossier_id, status=answer.status, error=error, values=form
        )
    return RedirectResponse(f"/examens/{dossier_id}?fait=notation#autres", status_code=303)
