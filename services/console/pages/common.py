"""What several pages share: the campaign a page is about, a dossier as the four services know
it, a command sent for the person and what to show of its answer."""

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from services.console import reasons
from services.console.backend import Answer
from services.console.context import Console
from services.console.sessions import Person


@dataclass
class Dossier:
    """One dossier, gathered from the services that know it (each within the person's rights)."""

    dossier_id: str
    filed: dict[str, Any] | None  # applications
    selection: dict[str, Any] | None
    payments: dict[str, Any] | None
    mails: list[dict[str, Any]]

    @property
    def known(self) -> bool:
        return self.filed is not None

    @property
    def state(self) -> str:
        if self.filed and self.filed.get("status") == "withdrawn":
            return "withdrawn"
        return str((self.selection or {}).get("state") or "submitted")

    @property
    def reference(self) -> str:
        return str((self.filed or {}).get("reference", ""))


async def dossier(console: Console, person: Person, dossier_id: str) -> Dossier:
    services = console.services
    filed = await services.get(person, "applications", f"/dossiers/{dossier_id}")
    if not filed.ok:
        return Dossier(dossier_id, None, None, None, [])
    selection = await services.get(person, "selection", f"/dossiers/{dossier_id}")
    payments = await services.get(person, "payments", f"/dossiers/{dossier_id}")
    mails = await services.get(person, "notifications", f"/dossiers/{dossier_id}/notifications")
    return Dossier(
        dossier_id,
        filed.body,
        selection.body if selection.ok else None,
        payments.body if payments.ok else None,
        mails.body if mails.ok else [],
    )


async def campaigns(console: Console, person: Person) -> list[dict[str, Any]]:
    answer = await console.services.get(person, "applications", "/campaigns")
    return list(answer.body) if answer.ok and isinstance(answer.body, list) else []


async def campaign_of(console: Console, person: Person, request: Request) -> str:
    """The campaign asked for (`?campagne=`), else the open one closing last, else the latest."""
    asked = request.query_params.get("campagne")
    known = await campaigns(console, person)
    ids = [str(c["id"]) for c in known]
    if asked in ids:
        return str(asked)
    open_ = [c for c in known if c.get("open")]
    chosen = (open_ or known)[-1:] if known else []
    return str(chosen[0]["id"]) if chosen else "demo"


def new_key() -> str:
    """The Idempotency-Key of a form: the same form sent twice records once."""
    return secrets.token_urlsafe(16)


def refusal(answer: Answer) -> str:
    """What to tell the person of a command the service refused: in French when the console words
    the rule that refused it, else in the service's words."""
    if answer.status == 403:
        return "Votre rôle ne vous permet pas cette action sur ce dossier."
    if answer.status == 404:
        return "Ce dossier n'existe pas, ou n'est pas de votre ressort."
    if answer.status == 503:
        return "Le service ne répond pas pour le moment : réessayez dans quelques instants."
    return reasons.command(answer.rule, answer.detail) or f"Le service a répondu {answer.status}."
