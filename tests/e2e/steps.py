"""A dossier's journey through the running platform, step by step, as its actors take it."""

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.factories import eligible_dossier
from tests.helpers import bearer, wait_for

SCORES = {
    "adequacy": 4,
    "innovation": 3,
    "team_competence": 4,
    "methodology": 4,
    "partnership": 5,
    "prefecture_opinion": 5,
}


def scores(**given: int) -> dict[str, int]:
    """The committee's six scores, 4 unless given (innovation 3)."""
    usual = {
        "adequacy": 4,
        "innovation": 3,
        "team_competence": 4,
        "methodology": 4,
        "partnership": 4,
        "prefecture_opinion": 4,
    }
    return usual | given


@dataclass
class Journey:
    platform: Platform
    dossier: dict[str, Any] = field(default_factory=eligible_dossier)
    campaign: str = "demo"
    dossier_id: str = ""
    reference: str = ""

    @property
    def siren(self) -> str:
        return str(self.dossier["applicant"]["siren"])

    @property
    def departement(self) -> str:
        return str(self.dossier["applicant"]["departement"])

    def token(self, role: Role | str, **binding: str) -> dict[str, str]:
        role = Role(role)
        if role is Role.applicant:
            binding.setdefault("siren", self.siren)
        if role is Role.prefecture:
            binding.setdefault("departement", self.departement)
        return bearer(self.platform.settings, role, **binding)

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        role: Role | str | None,
        body: dict[str, Any] | None = None,
        **binding: str,
    ) -> httpx.Response:
        headers = self.token(role, **binding) if role else {}
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.request(
                method, self.platform.url(service, path), json=body, headers=headers
            )

    async def command(
        self,
        service: str,
        path: str,
        role: Role | str,
        body: dict[str, Any] | None = None,
        **binding: str,
    ) -> dict[str, Any]:
        """A command that must succeed: 201 with the events it recorded."""
        response = await self.call(
            service, "POST", f"/dossiers/{self.dossier_id}{path}", role, body or {}, **binding
        )
        assert response.status_code == 201, f"{path}: {response.status_code} {response.text}"
        return response.json()

    async def refused(
        self,
        service: str,
        path: str,
        role: Role | str,
        body: dict[str, Any] | None = None,
        status: int = 409,
        **binding: str,
    ) -> str:
        """A command that must be refused with `status`; returns the reason given."""
        response = await self.call(
            service, "POST", f"/dossiers/{self.dossier_id}{path}", role, body or {}, **binding
        )
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return str(response.json()["detail"])

    # -- the steps -------------------------------------------------------------------------

    async def file(self) -> "Journey":
        response = await self.call(
            "applications",
            "POST",
            f"/campaigns/{self.campaign}/dossiers",
            Role.applicant,
            self.dossier,
        )
        assert response.status_code == 201, response.text
        self.dossier_id, self.reference = (
            response.json()["dossier_id"],
            response.json()["reference"],
        )
        return self

    async def checked(self) -> dict[str, Any]:
        return await self.seen("selection", lambda d: d.get("eligible") is not None, "eligibility")

    async def opinion(self, opinion: str = "favorable") -> dict[str, Any]:
        return await self.command(
            "selection",
            "/prefecture-opinion",
            Role.prefecture,
            {
                "opinion": opinion,
                "motivation": "Projet partenarial solide, "
                "porté par le maire, avec la police et le parquet.",
            },
        )

    async def assess(self, proposed: str = "120000.00") -> dict[str, Any]:
        return await self.command(
            "selection",
            "/assessment",
            Role.instructor,
            {
                "scores": SCORES,
                "proposed_eur": proposed,
                "comment": "Plan global mobilisant plusieurs leviers.",
            },
        )

    async def decide(
        self, outcome: str = "selected", granted: str | None = "120000.00"
    ) -> dict[str, Any]:
        body = {"outcome": outcome, "motivation": "Au vu de l'avis de la préfecture et du comité."}
        if outcome == "selected":
            body["granted_eur"] = granted
        return await self.command("selection", "/decision", Role.president, body)

    async def sign_by_all(self) -> None:
        for role in (Role.applicant, Role.prefecture, Role.president):
            await self.command("selection", "/convention/signatures", role)

    async def committed(self) -> dict[str, Any]:
        return await self.seen("payments", lambda d: True, "the funds committed")

    async def activity_report(self, spent: str = "54200.00") -> dict[str, Any]:
        """The collectivité's next activity report, asking for the instalment it unlocks."""
        return await self.command(
            "payments",
            "/activity-reports",
            Role.applicant,
            {
                "summary": "Deux quartiers couverts, 180 jeunes accompagnés à ce jour.",
                "spent_to_date_eur": spent,
                "instalment_asked": True,
            },
        )

    async def report(self, justified: str) -> dict[str, Any]:
        return await self.command(
            "payments",
            "/final-report",
            Role.applicant,
            {
                "justified_spending_eur": justified,
                "summary": "Évaluation : 420 jeunes touchés, points de deal réduits.",
            },
        )

    async def departmental_opinion(self, opinion: str) -> dict[str, Any]:
        return await self.command(
            "payments",
            "/departmental-opinion",
            Role.prefecture,
            {
                "opinion": opinion,
                "motivation": "Évaluation de l'efficacité "
                "de l'action au vu du rapport final et des indicateurs.",
            },
        )

    async def selected_and_signed(self, granted: str = "120000.00") -> "Journey":
        await self.file()
        assert (await self.checked())["eligible"] is True
        await self.opinion()
        await self.assess(granted)
        await self.decide("selected", granted)
        await self.sign_by_all()
        await self.committed()
        return self

    # -- what the services know ------------------------------------------------------------

    async def read(self, service: str, role: Role | str = Role.auditor) -> httpx.Response:
        path = f"/dossiers/{self.dossier_id}"
        if service == "notifications":
            path += "/notifications"
        return await self.call(service, "GET", path, role)

    async def seen(self, service: str, condition: Any, what: str, timeout: float = 60) -> Any:
        """Wait until the service's read model of the dossier satisfies `condition`."""

        async def known() -> Any:
            response = await self.read(service)
            if response.status_code == 200 and condition(body := response.json()):
                return body
            return None

        return await wait_for(
            known, timeout=timeout, what=f"{what} of {self.reference} in {service}"
        )

    async def mails(self, *templates: str) -> list[str]:
        """Wait until every template in `templates` has reached the mail sink; return all."""
        wanted = sorted(templates)

        async def arrived() -> list[str] | None:
            got = self.platform.mail.templates(self.reference)
            rest = list(got)
            for t in wanted:
                if t not in rest:
                    return None
                rest.remove(t)
            return got

        return await wait_for(arrived, timeout=60, what=f"mails {wanted} for {self.reference}")

    async def events(self, service: str) -> list[str]:
        """The event types of the dossier's stream in a service's event store, in order."""
        conn = await asyncpg.connect(self.platform.settings.admin_dsn(service))
        try:
            rows = await conn.fetch(
                "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY version",
                self.dossier_id,
            )
        finally:
            await conn.close()
        return [r["event_type"].split(".")[-2] for r in rows]
