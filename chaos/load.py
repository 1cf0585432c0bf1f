"""The steady load the fault scenarios run under: dossiers' lives, driven over HTTP by their actors
as the README tells clients to be (each command with its Idempotency-Key, sent again while the
service does not answer or answers 502/503/504).

A life: the commune files its dossier; once selection has checked it, the préfecture gives its
opinion; one life in `decided_every` goes on to the instructor's assessment, the President's
selection and the three signatures of the convention (which commits the funds in payments).
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx

from shared.language.actors import Role
from tests.e2e.lab import Lab
from tests.e2e.steps import SCORES
from tests.factories import eligible_dossier
from tests.helpers import bearer

RETRIED = {502, 503, 504}
GIVE_UP_SECONDS = 600.0  # a command still unanswered after this is counted as unanswered
MOTIVATION = "Projet partenarial solide, porté par le maire, avec la police et le parquet."
GRANTED = "1000.00"


@dataclass
class Life:
    kind: str  # "plain" (filed, checked, opinion given) or "decided" (selected and signed too)
    dossier_id: str = ""
    reference: str = ""
    done: bool = False


@dataclass
class Tally:
    """What the actors saw: commands sent and acknowledged, retries, answers out of the rules."""

    sent: int = 0
    acknowledged: int = 0
    retries: Counter[str] = field(default_factory=Counter)  # why: transport, 503, 404 …
    unexpected: list[str] = field(default_factory=list)
    acknowledged_at: list[float] = field(default_factory=list)  # time.monotonic() of each

    def first_acknowledged_after(self, instant: float) -> float | None:
        later = [t for t in self.acknowledged_at if t >= instant]
        return min(later) if later else None

    def acknowledged_between(self, start: float, end: float) -> int:
        return sum(1 for t in self.acknowledged_at if start <= t < end)


class Actors:
    """The lab's actors, sharing one HTTP client."""

    def __init__(self, lab: Lab, client: httpx.AsyncClient, tally: Tally) -> None:
        self.lab, self.client, self.tally = lab, client, tally

    def url(self, service: str, path: str) -> str:
        return self.lab.services[service].url(path)

    async def _until_answered(
        self, request: Callable[[], Any], retry_on: set[int]
    ) -> httpx.Response | None:
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            try:
                answer: httpx.Response = await request()
            except httpx.TransportError as error:
                self.tally.retries[f"transport ({type(error).__name__})"] += 1
            else:
                if answer.status_code not in retry_on:
                    return answer
                self.tally.retries[str(answer.status_code)] += 1
            await asyncio.sleep(0.3)
        return None

    async def command(
        self, service: str, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A command sent until answered, with its key; its answer when acknowledged (201)."""
        headers = {**headers, "Idempotency-Key": str(uuid4())}
        url = self.url(service, path)
        self.tally.sent += 1
        answer = await self._until_answered(
            lambda: self.client.post(url, json=body, headers=headers), RETRIED
        )
        if answer is None:
            self.tally.unexpected.append(f"{path}: unanswered after {GIVE_UP_SECONDS:.0f} s")
            return None
        if answer.status_code != 201:
            self.tally.unexpected.append(f"{path}: {answer.status_code} {answer.text[:200]}")
            return None
        self.tally.acknowledged += 1
        self.tally.acknowledged_at.append(time.monotonic())
        recorded: dict[str, Any] = answer.json()
        return recorded

    async def checked(self, dossier_id: str, headers: dict[str, str]) -> bool:
        """Waits until selection shows the dossier checked (404 until it heard of it)."""
        url = self.url("selection", f"/dossiers/{dossier_id}")
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            answer = await self._until_answered(
                lambda: self.client.get(url, headers=headers), RETRIED | {404}
            )
            if answer is not None and answer.status_code == 200:
                if answer.json().get("eligible") is not None:
                    return True
            elif answer is not None:
                self.tally.unexpected.append(f"GET dossier: {answer.status_code}")
                return False
            await asyncio.sleep(0.3)
        self.tally.unexpected.append(f"dossier {dossier_id} never checked")
        return False

    async def live(self, life: Life) -> None:
        dossier = eligible_dossier()
        siren = dossier["applicant"]["siren"]
        departement = dossier["applicant"]["departement"]
        settings = self.lab.settings
        commune = bearer(settings, Role.applicant, siren=siren)
        prefecture = bearer(settings, Role.prefecture, departement=departement)
        filed = await self.command("applications", "/campaigns/demo/dossiers", commune, dossier)
        if filed is None:
            return
        life.dossier_id, life.reference = filed_dossier(filed)
        if not await self.checked(life.dossier_id, bearer(settings, Role.instructor)):
            return
        at = f"/dossiers/{life.dossier_id}"
        opinion = {"opinion": "favorable", "motivation": MOTIVATION}
        if await self.command("selection", f"{at}/prefecture-opinion", prefecture, opinion) is None:
            return
        if life.kind == "decided":
            steps: list[tuple[str, dict[str, str], dict[str, Any]]] = [
                (
                    "/assessment",
                    bearer(settings, Role.instructor),
                    {"scores": SCORES, "proposed_eur": GRANTED, "comment": "Plan global."},
                ),
                (
                    "/decision",
                    bearer(settings, Role.president),
                    {"outcome": "selected", "granted_eur": GRANTED, "motivation": MOTIVATION},
                ),
                ("/convention/signatures", commune, {}),
                ("/convention/signatures", prefecture, {}),
                ("/convention/signatures", bearer(settings, Role.president), {}),
            ]
            for path, headers, body in steps:
                if await self.command("selection", at + path, headers, body) is None:
                    return
        life.done = True


def filed_dossier(answer: dict[str, Any]) -> tuple[str, str]:
    """The dossier's id and reference: in the filing's answer, or, when that answer was lost as
    the service died after the commit, in the events its Idempotency-Key replays instead."""
    if "dossier_id" in answer:
        return str(answer["dossier_id"]), str(answer["reference"])
    data = answer["recorded"][0]["data"]
    return str(data["dossier_id"]), str(data["reference"])


async def run_lives(
    lab: Lab, count: int, clients: int, decided_every: int, tally: Tally
) -> list[Life]:
    """`count` lives, `clients` at a time; one in `decided_every` is selected and signed."""
    lives = [Life("decided" if i % decided_every == 0 else "plain") for i in range(count)]
    order = iter(random.sample(lives, len(lives)))
    limits = httpx.Limits(max_connections=clients * 2, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        actors = Actors(lab, client, tally)

        async def worker() -> None:
            for life in order:
                await actors.live(life)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return lives
