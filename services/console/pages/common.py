"""What several pages share: the campaign a page is about, a dossier as the four services know
it, a command sent for the person and what to show of its answer."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from services.console import reasons
from services.console.backend import Answer
from services.console.context import Console, page
from services.console.sessions import Person
from shared.language.actors import Role

# Who reads the agents' notes: MILDECA, the préfecture, and the auditors (who only read them).
NOTE_READERS = (Role.prefecture, Role.instructor, Role.president, Role.auditor)
NOTE_WRITERS = (Role.prefecture, Role.instructor, Role.president)
# Who reads a dossier's committee (its reviewers, their reviews): MILDECA and the auditors.
MILDECA = (Role.instructor, Role.president, Role.auditor)


@dataclass
class Dossier:
    """One dossier, gathered from the services that know it (each within the person's rights)."""

    dossier_id: str
    filed: dict[str, Any] | None  # applications
    selection: dict[str, Any] | None
    payments: dict[str, Any] | None
    mails: list[dict[str, Any]]
    # applications' exchange: the files ({attachments, complete, missing_attachments}), the
    # thread, and the agents' notes (None: not read, the person is not an agent)
    files: dict[str, Any] = field(default_factory=dict)
    thread: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] | None = None
    # selection's committee of the dossier (None: not read, the person is not of MILDECA)
    committee: dict[str, Any] | None = None

    @property
    def known(self) -> bool:
        return self.filed is not None

    @property
    def status(self) -> str:
        """applications' word: submitted, correction_requested, withdrawn, closed_incomplete."""
        return str((self.filed or {}).get("status") or "submitted")

    @property
    def state(self) -> str:
        if self.status in ("withdrawn", "closed_incomplete"):
            return self.status
        return str((self.selection or {}).get("state") or "submitted")

    @property
    def correction(self) -> dict[str, Any] | None:
        """The correction asked and not yet answered, or None."""
        asked = (self.filed or {}).get("correction")
        return asked if isinstance(asked, dict) else None

    def correction_due_passed(self, now: datetime) -> bool:
        """Whether the correction asked was due before `now` (it may then be closed)."""
        due = (self.correction or {}).get("due_at")
        try:
            return bool(due) and datetime.fromisoformat(str(due)) <= now
        except ValueError:
            return False

    @property
    def decided(self) -> bool:
        return self.state in ("selected", "rejected", "convention_signed")

    @property
    def reference(self) -> str:
        return str((self.filed or {}).get("reference", ""))


async def dossier(console: Console, person: Person, dossier_id: str) -> Dossier:
    """The dossier as every service knows it, asked of them all at once."""
    services = console.services
    filed = await services.get(person, "applications", f"/dossiers/{dossier_id}")
    if not filed.ok:
        return Dossier(dossier_id, None, None, None, [])
    at = f"/dossiers/{dossier_id}"
    asked: list[Awaitable[Answer]] = [
        services.get(person, "selection", at),
        services.get(person, "payments", at),
        services.get(person, "notifications", f"{at}/notifications"),
        services.get(person, "applications", f"{at}/attachments"),
        services.get(person, "applications", f"{at}/messages"),
    ]
    if person.role in NOTE_READERS:  # an applicant's token never reads them, nor asks
        asked.append(services.get(person, "applications", f"{at}/notes"))
    if person.role in MILDECA:
        asked.append(services.get(person, "selection", f"{at}/committee"))
    selection, payments, mails, files, thread, *more = await asyncio.gather(*asked)
    notes = more[:1] if person.role in NOTE_READERS else []
    committee = more[-1] if person.role in MILDECA else None
    return Dossier(
        dossier_id,
        filed.body,
        selection.body if selection.ok else None,
        payments.body if payments.ok else None,
        mails.body if mails.ok else [],
        files=files.body if files.ok else {},
        thread=thread.body if thread.ok and isinstance(thread.body, list) else [],
        notes=[n for answer in notes if answer.ok for n in answer.body] if notes else None,
        committee=committee.body if committee is not None and committee.ok else None,
    )


async def settled(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    """Wait, a little, until a read shows what a command just recorded: the services' reads
    follow their log, an instant behind. The page that comes next then shows it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if await check():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.15)


def recorded(answer: Answer, key: str) -> Any:
    """A value of the first event a command recorded (`message_id`), or None."""
    events = answer.body.get("recorded") if isinstance(answer.body, dict) else None
    if not events or not isinstance(events[0], dict):
        return None
    return (events[0].get("data") or {}).get(key)


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


def not_found(
    request: Request,
    person: Person,
    *,
    title: str,
    heading: str,
    reason: str,
    back: str,
    status: int = 404,
) -> Response:
    """The page of what is not there, or not for this person: said the same either way (404);
    or of a service that did not answer (`status`)."""
    return page(
        request,
        "refused.html",
        status=status,
        person=person,
        title=title,
        heading=heading,
        reason=reason,
        back=back,
    )
