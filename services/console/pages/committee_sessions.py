"""The committee's sessions: the instructor records one held (its title, when, the members
present, the minutes, the assessed dossiers it examined); the session's page shows its dossiers in
the ranking of their consensus, and the President decides them all at once, within the envelope,
or has the whole batch refused with the reason."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console import forms
from services.console.backend import Answer
from services.console.context import Console, ConsoleDep, PersonDep, page, require
from services.console.pages.common import (
    MILDECA,
    campaign_of,
    campaigns,
    new_key,
    not_found,
    refusal,
)
from services.console.pages.common import recorded as recorded_value
from services.console.present import money
from services.console.sessions import Person, same_token
from shared.language.actors import Role
from shared.language.campaigns import PARIS

router = APIRouter(include_in_schema=False)

INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés."
EXPIRED = "Ce formulaire a expiré : rechargez la page et recommencez."
DONE = {
    "seance": "La séance est enregistrée, ses dossiers classés par leur consensus.",
    "decision": "Les dossiers de la séance sont décidés : chaque collectivité en est avertie.",
}


def held_at(typed: str) -> str | None:
    """The moment a date and time typed in the form means, in Paris."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=PARIS)).isoformat()


async def show_sessions(
    request: Request,
    person: Person,
    console: Console,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    campaign = values.get("campagne", "") if values else ""
    campaign = campaign or await campaign_of(console, person, request)
    services = console.services
    listed = await services.get(person, "selection", f"/campaigns/{campaign}/committee-sessions")
    assessed: list[dict[str, Any]] = []
    if person.role is Role.instructor:  # the dossiers a session may examine: assessed, undecided
        asked = {"state": "assessed", "sort": "weighted_score", "order": "desc", "per_page": 200}
        found = await services.get(person, "selection", f"/campaigns/{campaign}/dossiers", asked)
        assessed = found.body["dossiers"] if found.ok else []
    return page(
        request,
        "sessions.html",
        status=status,
        person=person,
        campaign=campaign,
        campaigns=await campaigns(console, person),
        sessions=listed.body if listed.ok else [],
        listed_error=None if listed.ok else refusal(listed),
        assessed=assessed,
        error=error,
        values=values or {},
        key=new_key(),
    )


@router.get("/seances")
async def sessions(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, *MILDECA)
    return await show_sessions(request, person, console)


def _by_field(answer: Answer, rename: dict[str, str], whole: str) -> dict[str, str]:
    """A 422's reasons by the form's field (`members_present.2` → `members_present`); a reason
    about the whole body goes beside `whole`."""
    fields: dict[str, str] = {}
    for name, reason in answer.field_errors().items():
        head = name.split(".")[0]
        fields.setdefault(rename.get(name, rename.get(head, head)) or whole, reason)
    return fields


@router.post("/seances")
async def record(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.instructor)
    form = await request.form()
    values: dict[str, Any] = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    values["dossiers"] = [str(d) for d in form.getlist("dossiers")]

    async def again(message: str, fields: dict[str, str], status: int) -> Response:
        error = {"message": message, "fields": fields}
        return await show_sessions(
            request, person, console, status=status, error=error, values=values
        )

    if not same_token(person.csrf, values.get("csrf")):
        return await again(EXPIRED, {}, 400)
    when = held_at(values.get("held_at", ""))
    if when is None:
        return await again(INVALID, {"held_at": "Indiquez la date et l'heure de la séance."}, 422)
    body = {
        "title": values.get("title", ""),
        "held_at": when,
        "members_present": [m.strip() for m in values.get("members", "").splitlines() if m.strip()],
        "minutes": values.get("minutes", ""),
        "dossiers": values["dossiers"],
    }
    campaign = values.get("campagne", "")
    answer = await console.services.post(
        person,
        "selection",
        f"/campaigns/{campaign}/committee-sessions",
        body,
        idempotency_key=values.get("key") or None,
    )
    if not answer.ok:
        fields = _by_field(answer, {"members_present": "members"}, "dossiers")
        return await again(INVALID if fields else refusal(answer), fields, answer.status)
    session_id = recorded_value(answer, "session_id")
    return RedirectResponse(f"/seances/{session_id}?fait=seance", status_code=303)


async def show_session(
    request: Request,
    person: Person,
    console: Console,
    session_id: str,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    read = await console.services.get(person, "selection", f"/committee-sessions/{session_id}")
    if not read.ok:
        return not_found(
            request,
            person,
            title="Séance introuvable",
            heading="Aucune séance du comité à cette adresse",
            reason="Aucune séance n'a cet identifiant." if read.status == 404 else refusal(read),
            back="/seances",
            status=404 if read.status == 404 else 503,
        )
    held = read.body
    summary = None
    if person.role is Role.president and held.get("decision") is None:
        at = f"/campaigns/{held['campaign_id']}/summary"
        answer = await console.services.get(person, "selection", at)
        summary = answer.body if answer.ok else None
    return page(
        request,
        "session.html",
        status=status,
        person=person,
        s=held,
        decided={d["dossier_id"]: d for d in (held.get("decision") or {}).get("decisions", [])},
        summary=summary,
        done=DONE.get(request.query_params.get("fait", "")),
        error=error,
        values=values or {},
        key=new_key(),
    )


@router.get("/seances/{session_id}")
async def session(
    session_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, *MILDECA)
    return await show_session(request, person, console, session_id)


def _choices(held: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """The President's decision on each dossier of the session, in its ranking."""
    chosen = []
    for d in held["dossiers"]:
        outcome = values.get(f"outcome.{d['dossier_id']}", "")
        choice: dict[str, Any] = {"dossier_id": d["dossier_id"], "outcome": outcome}
        granted = values.get(f"granted.{d['dossier_id']}", "")
        if outcome == "selected" and granted:
            choice["granted_eur"] = forms.amount(granted)
        chosen.append(choice)
    return chosen


def _total(held: dict[str, Any], chosen: list[dict[str, Any]]) -> str:
    """What the decisions sent would grant in all (each selection its amount, else the
    proposal), as the refusal beyond the envelope says it."""
    proposed = {d["dossier_id"]: d["proposed_eur"] for d in held["dossiers"]}
    total = Decimal(0)
    for c in chosen:
        if c["outcome"] == "selected":
            try:
                total += Decimal(str(c.get("granted_eur") or proposed[c["dossier_id"]]))
            except InvalidOperation:
                return "—"
    return money(f"{total:.2f}")


async def _over_envelope(
    console: Console, person: Person, held: dict[str, Any], chosen: list[dict[str, Any]]
) -> str:
    at = f"/campaigns/{held['campaign_id']}/summary"
    summary = await console.services.get(person, "selection", at)
    left = money(summary.body.get("remaining_eur")) if summary.ok else "—"
    return (
        f"Les attributions de la séance totalisent {_total(held, chosen)}, au-delà des {left} "
        "qui restent de l'enveloppe de la campagne : toute la séance est refusée, aucun de ses "
        "dossiers n'est décidé. Retenez moins de dossiers, ou des montants moindres."
    )


@router.post("/seances/{session_id}/decision")
async def decide(
    session_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, Role.president)
    values = {k: str(v).strip() for k, v in (await request.form()).items() if isinstance(v, str)}

    async def again(message: str, fields: dict[str, str], status: int) -> Response:
        error = {"message": message, "fields": fields}
        return await show_session(
            request, person, console, session_id, status=status, error=error, values=values
        )

    if not same_token(person.csrf, values.get("csrf")):
        return await again(EXPIRED, {}, 400)
    read = await console.services.get(person, "selection", f"/committee-sessions/{session_id}")
    if not read.ok:
        return await again(refusal(read), {}, read.status)
    chosen = _choices(read.body, values)
    answer = await console.services.post(
        person,
        "selection",
        f"/committee-sessions/{session_id}/decision",
        {"motivation": values.get("motivation", ""), "decisions": chosen},
        idempotency_key=values.get("key") or None,
    )
    if answer.ok:
        return RedirectResponse(f"/seances/{session_id}?fait=decision", status_code=303)
    if answer.rule == "OverEnvelope":
        return await again(await _over_envelope(console, person, read.body, chosen), {}, 409)
    rename = {
        f"decisions.{n}.{part}": f"{form}.{c['dossier_id']}"
        for n, c in enumerate(chosen)
        for part, form in (("outcome", "outcome"), ("granted_eur", "granted"))
    }
    fields = _by_field(answer, rename, "motivation")
    return await again(INVALID if fields else refusal(answer), fields, answer.status)
