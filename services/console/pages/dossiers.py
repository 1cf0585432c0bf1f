"""A person's dossiers, and one dossier: all the services know of it, and what the person may do
on it. Each action is one form, sent to the service that takes it; a refusal is shown next to
the action, in the service's words, and nothing is recorded."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms, habilitations
from services.console.context import ConsoleDep, PersonDep, page
from services.console.pages.common import campaign_of, dossier, new_key, not_found, refusal
from services.console.present import FIELD_LABELS
from services.console.sessions import same_token
from shared.language.actors import Role

router = APIRouter(include_in_schema=False)

Form = dict[str, str]


@dataclass(frozen=True)
class Action:
    service: str
    path: str  # after /dossiers/{id}
    roles: tuple[Role, ...]
    body: Callable[[Form], Any]
    done: str  # said once it is recorded


def scores_of(form: Form) -> dict[str, Any]:
    return {
        c: int(v) if (v := form.get(f"scores.{c}", "")).isdigit() else v
        for c in (
            "adequacy",
            "innovation",
            "team_competence",
            "methodology",
            "partnership",
            "prefecture_opinion",
        )
    }


def _decision(form: Form) -> dict[str, Any]:
    body = {"outcome": form.get("outcome", ""), "motivation": form.get("motivation", "")}
    if form.get("outcome") == "selected":
        body["granted_eur"] = forms.amount(form.get("granted_eur", ""))
    return body


ACTIONS: dict[str, Action] = {
    "retrait": Action(
        "applications",
        "/withdrawal",
        (Role.applicant,),
        lambda f: {"reason": f.get("reason", "")},
        "Le dossier est retiré.",
    ),
    "avis": Action(
        "selection",
        "/prefecture-opinion",
        (Role.prefecture,),
        lambda f: {"opinion": f.get("opinion", ""), "motivation": f.get("motivation", "")},
        "L'avis de la préfecture est enregistré.",
    ),
    "evaluation": Action(
        "selection",
        "/assessment",
        (Role.instructor,),
        lambda f: {
            "scores": scores_of(f),
            "proposed_eur": forms.amount(f.get("proposed_eur", "")),
            "comment": f.get("comment", ""),
        },
        "L'évaluation du comité est enregistrée.",
    ),
    "decision": Action(
        "selection", "/decision", (Role.president,), _decision, "La décision est enregistrée."
    ),
    "examinateur": Action(
        "selection",
        "/reviewers",
        (Role.instructor,),
        lambda f: {"reviewer": f.get("reviewer", "")},
        "L'examinateur est désigné : le dossier figure parmi ses dossiers à examiner.",
    ),
    "signature": Action(
        "selection",
        "/convention/signatures",
        (Role.applicant, Role.prefecture, Role.president),
        lambda f: {},
        "Votre signature de la convention est enregistrée.",
    ),
    "versement": Action(
        "payments", "/instalments", (Role.instructor,), lambda f: {}, "Le versement est enregistré."
    ),
    "rapport-activite": Action(
        "payments",
        "/activity-reports",
        (Role.applicant,),
        lambda f: {
            "summary": f.get("summary", ""),
            "spent_to_date_eur": forms.amount(f.get("spent_to_date_eur", "")),
            "instalment_asked": f.get("instalment_asked", "oui") != "non",
        },
        "Le rapport d'activité est déposé : la MILDECA et la préfecture en sont averties.",
    ),
    "rapport-final": Action(
        "payments",
        "/final-report",
        (Role.applicant,),
        lambda f: {
            "justified_spending_eur": forms.amount(f.get("justified_spending_eur", "")),
            "summary": f.get("summary", ""),
        },
        "Le rapport final est déposé.",
    ),
    "avis-solde": Action(
        "payments",
        "/departmental-opinion",
        (Role.prefecture,),
        lambda f: {"opinion": f.get("opinion", ""), "motivation": f.get("motivation", "")},
        "L'avis motivé avant le solde est enregistré.",
    ),
    "solde": Action(
        "payments", "/balance", (Role.instructor,), lambda f: {}, "Le solde est versé."
    ),
    "cloture": Action(
        "applications",
        "/closure",
        (Role.instructor, Role.president),
        lambda f: {"motivation": f.get("motivation", "")},
        "Le dossier est clos comme incomplet : la collectivité en est avertie.",
    ),
}

DONE = {name: action.done for name, action in ACTIONS.items()} | {
    "depot": "Votre dossier est déposé : un accusé de réception vous est envoyé par courriel.",
    "piece": "Le fichier est joint au dossier.",
    "message": "Votre message est envoyé : les autres parties en sont averties par courriel.",
    "note": "Votre note est ajoutée : seuls les agents la lisent.",
    "demande-de-correction": "La demande de correction est envoyée à la collectivité.",
    "correction": "Votre correction est enregistrée : l'éligibilité du dossier est vérifiée à "
    "nouveau.",
}
# Where on the page each one is said: beside the section it concerns.
DONE_IN = {"piece": "pieces", "message": "messagerie", "note": "notes", "examinateur": "comite"}


@router.get("/dossiers")
async def dossiers(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    """The applicant's dossiers; a committee member's those they review (pages/committee.py); the
    others' the campaign's table (pages/campaigns.py)."""
    if person.role is Role.reviewer:
        return RedirectResponse("/examens", status_code=303)
    if person.role is not Role.applicant:
        return RedirectResponse(f"/campagnes/tableau?{request.url.query}", status_code=303)
    mine = await console.services.get(person, "applications", "/dossiers")
    campaign = await campaign_of(console, person, request)
    states: dict[str, str] = {}
    listed = await console.services.get(
        person, "selection", f"/campaigns/{campaign}/dossiers", {"per_page": 200}
    )
    if listed.ok:
        states = {d["dossier_id"]: d["state"] for d in listed.body["dossiers"]}
    rows = mine.body if mine.ok else []
    for row in rows:
        row["state"] = (
            row["status"]
            if row.get("status") in ("withdrawn", "closed_incomplete")
            else states.get(row["dossier_id"], "submitted")
        )
    drafts = await console.services.get(person, "applications", "/drafts")
    return page(
        request,
        "my_dossiers.html",
        person=person,
        dossiers=rows,
        drafts=drafts.body if drafts.ok else [],
        error=None if mine.ok else refusal(mine),
    )


async def show_dossier(
    request: Request,
    person: Any,
    console: Any,
    dossier_id: str,
    *,
    status: int = 200,
    errors: dict[str, Any] | None = None,
    values: Form | None = None,
    key: str | None = None,
) -> Response:
    """The dossier's page; after a refused form, with its reasons beside the form and what was
    typed in it (`values`), under the same Idempotency-Key when sending it again is safe."""
    found = await dossier(console, person, dossier_id)
    if not found.known:
        return not_found(
            request,
            person,
            title="Dossier introuvable",
            heading="Aucun dossier à cette adresse",
            reason="Ce dossier n'existe pas, ou n'est pas de votre ressort.",
            back="/dossiers",
        )
    fait = request.query_params.get("fait", "")
    members: list[tuple[str, str]] = []
    if person.role is Role.instructor and found.committee:  # whom the instructor may name
        async with console.pool.acquire() as conn:
            habilitated = await habilitations.holding(conn, Role.reviewer)
        named = {r["reviewer"] for r in found.committee.get("reviewers", [])}
        members = [
            (m["email"], f"{m['name']} ({m['email']})" if m["name"] else m["email"])
            for m in habilitated
            if m["email"] not in named
        ]
    return page(
        request,
        "dossier.html",
        status=status,
        person=person,
        d=found,
        done=DONE.get(fait),
        done_in=DONE_IN.get(fait, "haut"),
        errors=errors or {},
        values=values or {},
        key=key or new_key(),
        correction_due_passed=found.correction_due_passed(console.clock()),
        correction_fields=FIELD_LABELS,
        members=members,
    )


@router.get("/dossiers/{dossier_id}")
async def show(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    if person.role is Role.reviewer:  # a committee member reads it as its reviewer
        return RedirectResponse(f"/examens/{dossier_id}", status_code=303)
    return await show_dossier(request, person, console, dossier_id)


@router.post("/dossiers/{dossier_id}/{name}")
async def act(
    dossier_id: str, name: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    action = ACTIONS.get(name)
    form: Form = {
        k: str(v).strip() for k, v in (await request.form()).items() if isinstance(v, str)
    }
    if action is None:
        return page(
            request,
            "refused.html",
            status=404,
            person=person,
            reason="Cette action n'existe pas.",
            back=f"/dossiers/{dossier_id}",
        )
    if not same_token(person.csrf, form.get("csrf")):
        return await show_dossier(
            request,
            person,
            console,
            dossier_id,
            status=400,
            values=form,
            errors={
                name: {
                    "message": "Ce formulaire a expiré : rechargez la page et recommencez.",
                    "fields": {},
                }
            },
        )
    answer = await console.services.post(
        person,
        action.service,
        f"/dossiers/{dossier_id}{action.path}",
        action.body(form),
        idempotency_key=form.get("key") or None,
    )
    if answer.ok:
        where = DONE_IN.get(name, "actions")
        return RedirectResponse(f"/dossiers/{dossier_id}?fait={name}#{where}", status_code=303)
    fields = answer.field_errors()
    message = (
        "Le formulaire contient des erreurs : corrigez les champs signalés."
        if fields
        else refusal(answer)
    )
    return await show_dossier(
        request,
        person,
        console,
        dossier_id,
        status=answer.status,
        values=form,
        errors={name: {"message": message, "fields": fields}},
    )
