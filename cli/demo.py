"""`aap demo`: one dossier walked through every step of the call, over HTTP, as its actors take
it."""

import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shared.language.actors import Role
from shared.language.referentials import siren_is_valid

SCORES = {
    "adequacy": 4,
    "innovation": 3,
    "team_competence": 4,
    "methodology": 4,
    "partnership": 5,
    "prefecture_opinion": 5,
}
GRANTED = Decimal("50000.00")  # small, so that many demos fit in the demo campaign's envelope
LEAST = Decimal("1.00")  # below this, what remains of an envelope makes no demo
MAX_INSTALMENTS = 12  # a bound on a loop that stops at the balance
# What an event's line leaves out: said once at the top, or too long for a line.
QUIET = {"dossier_id", "reference", "campaign_id", "dossier", "siren", "departement"}

Sign = Callable[..., str]  # (role, siren=…, departement=…, subject=…) -> a bearer token


class DemoStopped(Exception):
    """A step did not go as a person following the demo would expect: say why, and stop."""


def random_siren() -> str:
    """A random valid SIREN of a public body (they begin with 2): a new commune each demo."""
    base = "2" + "".join(random.choice("0123456789") for _ in range(7))
    return next(candidate for digit in "0123456789" if siren_is_valid(candidate := base + digit))


def demo_dossier(siren: str) -> dict[str, Any]:
    """An eligible dossier of a commune of the Gard, filed under `siren`."""
    dossier: dict[str, Any] = json.loads(
        resources.files("cli").joinpath("demo_dossier.json").read_text()
    )
    dossier["applicant"]["siren"] = siren
    return dossier


@dataclass
class Walk:
    urls: Mapping[str, str]  # service name -> base URL
    sign: Sign
    campaign: str = "demo"
    campaigns_dir: str = ""  # the services' AAP_CAMPAIGNS_DIR, where a campaign can be added
    timeout: float = 60.0
    granted: Decimal = GRANTED
    console: Console = field(default_factory=Console)
    dossier: dict[str, Any] = field(default_factory=lambda: demo_dossier(random_siren()))
    dossier_id: str = ""
    reference: str = ""
    step_number: int = 0
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def __post_init__(self) -> None:
        applicant, departement = self.dossier["applicant"], self.dossier["applicant"]["departement"]
        self.tokens = {
            Role.applicant: self.sign(
                Role.applicant,
                siren=applicant["siren"],
                subject=self.dossier["representative"]["email"],
            ),
            Role.prefecture: self.sign(
                Role.prefecture,
                departement=departement,
                subject=f"chef-de-projet-mildeca@pref-{departement}.example.gouv.fr",
            ),
            Role.instructor: self.sign(
                Role.instructor, subject="instruction@mildeca.example.gouv.fr"
            ),
            Role.president: self.sign(Role.president, subject="president@mildeca.example.gouv.fr"),
            Role.auditor: self.sign(Role.auditor, subject="audit@mildeca.example.gouv.fr"),
        }

    # -- the walk ------------------------------------------------------------------------

    def run(self) -> None:
        started = time.monotonic()
        with self.client:
            self.envelope()
            self.the_call()
            self.filed()
            self.eligibility()
            self.prefecture_opinion()
            self.assessment()
            self.decision()
            self.signatures()
            self.commitment()
            self.instalments()
            self.final_report()
            self.departmental_opinion()
            self.balance()
            self.mails()
        self.console.rule()
        self.console.print(
            f"[bold green]{self.reference}[/] went through every step in "
            f"{time.monotonic() - started:.1f} s (dossier {self.dossier_id})."
        )

    def envelope(self) -> None:
        """What remains of the campaign's envelope decides what this run grants: its usual
        amount, what remains when less is left, or, once nothing is, a campaign of its own."""
        response = self.call(
            "selection", "GET", f"/campaigns/{self.campaign}/ranking", Role.president
        )
        ranking = self.answer(response, "selection", "the campaign's envelope")
        remaining = Decimal(str(ranking.get("remaining_eur", "0")))
        if remaining >= GRANTED:
            return
        self.step("The campaign's envelope", f"{remaining} EUR left of {ranking['envelope_eur']}")
        if remaining >= LEAST:
            self.granted = remaining
            self.say(f"less than {GRANTED} EUR left: this run grants what remains, {remaining} EUR")
            return
        self.campaign = self.own_campaign()
        self.say(
            f"nothing left to grant: this run files in a campaign of its own, "
            f"[bold]{self.campaign}[/] (a copy of the demo campaign, added to {self.campaigns_dir})"
        )

    def own_campaign(self) -> str:
        """A copy of the demo campaign under a new id, in the folder the services read."""
        if not self.campaigns_dir:
            raise DemoStopped(
                f"the envelope of {self.campaign!r} is spent and no campaigns folder is known to "
                "add one: set AAP_CAMPAIGNS_DIR to the services' own (./dev demo does)"
            )
        campaign = json.loads(
            resources.files("shared.language").joinpath("campaigns/demo.json").read_text()
        )
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        campaign["id"] = f"demo-{stamp}"
        campaign["title"] = f"{campaign['title']} (démo du {stamp[:8]} {stamp[8:]})"
        campaign["reference_prefix"] = f"AAP-DEMO{stamp}"
        folder = Path(self.campaigns_dir)
        folder.mkdir(parents=True, exist_ok=True)
        written = folder / f".{campaign['id']}.json.tmp"
        written.write_text(json.dumps(campaign, ensure_ascii=False, indent=2))
        os.replace(written, folder / f"{campaign['id']}.json")  # the services see it whole
        return str(campaign["id"])

    def the_call(self) -> None:
        self.step("The call", "anyone may read the campaigns: no token needed")
        response = self.call("applications", "GET", "/campaigns", None)
        found = [
            c
            for c in self.answer(response, "applications", "GET /campaigns")
            if c.get("id") == self.campaign
        ]
        if not found:
            raise DemoStopped(f"applications knows no campaign {self.campaign!r}")
        self.say(escape(f"{found[0].get('title')} — dossiers until {found[0].get('deadline')}"))
        if found[0].get("open") is False:
            raise DemoStopped(
                f"the campaign {self.campaign!r} is closed: choose an open one (--campaign)"
            )

    def filed(self) -> None:
        applicant = self.dossier["applicant"]
        self.step(
            "The commune files its dossier",
            f"{applicant['name']} (SIREN {applicant['siren']}), département "
            f"{applicant['departement']}, asks {self.dossier['requested_eur']} EUR, as applicant",
        )
        response = self.call(
            "applications",
            "POST",
            f"/campaigns/{self.campaign}/dossiers",
            Role.applicant,
            self.dossier,
        )
        answer = self.answer(response, "applications", "filing")
        self.dossier_id, self.reference = str(answer["dossier_id"]), str(answer["reference"])
        self.say(f"filed: [bold]{self.reference}[/] (dossier {self.dossier_id})")
        self.show(answer.get("recorded", []))

    def eligibility(self) -> None:
        self.step("MILDECA checks eligibility", "rules E1–E7, automatically, on the submission")
        view = self.wait(
            "the eligibility check",
            "selection",
            f"/dossiers/{self.dossier_id}",
            lambda d: d.get("eligible") is not None,
        )
        if not view["eligible"]:
            rules = "; ".join(
                f"{f.get('rule')}: {f.get('reason')}" for f in view.get("failed_rules") or []
            )
            raise DemoStopped(f"{self.reference} is not eligible: {rules}")
        self.say("eligible: every rule E1–E7 holds")

    def prefecture_opinion(self) -> None:
        departement = self.dossier["applicant"]["departement"]
        self.step(f"The préfecture of département {departement} gives its opinion", "as prefecture")
        self.command(
            "selection",
            "/prefecture-opinion",
            Role.prefecture,
            {
                "opinion": "favorable",
                "motivation": "Plan global porté par la maire et le conseil municipal, partenariat "
                "solide avec le parquet, la gendarmerie et le bailleur social.",
            },
        )

    def assessment(self) -> None:
        self.step("The selection committee assesses the dossier", "six criteria, as instructor")
        self.command(
            "selection",
            "/assessment",
            Role.instructor,
            {
                "scores": SCORES,
                "proposed_eur": f"{self.granted:.2f}",
                "comment": "Plusieurs leviers coordonnés, territoire et publics bien identifiés.",
            },
        )
        try:
            ranking = self.wait(
                "the ranking of the campaign",
                "selection",
                f"/campaigns/{self.campaign}/ranking",
                self.ranked,
            )
        except DemoStopped as missing:  # the ranking is for the reader: the walk goes on without it
            self.say(f"[dim]no ranking: {escape(str(missing))}[/]")
            return
        rows = _ranked(ranking)
        place = next(
            i for i, row in enumerate(rows, 1) if str(row.get("dossier_id")) == self.dossier_id
        )
        envelope = ranking if isinstance(ranking, dict) else {}
        self.say(
            f"ranked {place} of {len(rows)} assessed dossiers of the campaign; its envelope: "
            f"{envelope.get('remaining_eur', '?')} EUR left of "
            f"{envelope.get('envelope_eur', '?')} EUR"
        )

    def ranked(self, ranking: Any) -> bool:
        return any(str(row.get("dossier_id")) == self.dossier_id for row in _ranked(ranking))

    def decision(self) -> None:
        self.step(
            "The President of MILDECA decides",
            f"selected, {self.granted:.2f} EUR granted, as president",
        )
        self.command(
            "selection",
            "/decision",
            Role.president,
            {
                "outcome": "selected",
                "granted_eur": f"{self.granted:.2f}",
                "motivation": "Avis favorable de la préfecture et du comité de sélection.",
            },
        )

    def signatures(self) -> None:
        self.step(
            "The convention is signed by its three parties",
            "the collectivité (applicant), the préfecture, MILDECA (president)",
        )
        for role in (Role.applicant, Role.prefecture, Role.president):
            self.command("selection", "/convention/signatures", role, {})

    def commitment(self) -> None:
        self.step("Payments commits the funds", "on the signed convention, automatically")
        view = self.wait(
            "the funds committed", "payments", f"/dossiers/{self.dossier_id}", lambda d: True
        )
        self.say(f"committed: {view.get('committed_eur', '?')} EUR")
        for instalment in view.get("plan") or []:
            if isinstance(instalment, dict):
                self.say(
                    f"  {instalment.get('number', '·')}. {instalment.get('label')}: "
                    f"{instalment.get('amount_eur')} EUR (on {instalment.get('due_on')})"
                )

    def instalments(self) -> None:
        self.step(
            "MILDECA pays the instalments before the balance",
            "as instructor; each one due on an activity report after the commune files it",
        )
        for _ in range(MAX_INSTALMENTS):
            response = self.call(
                "payments", "POST", f"/dossiers/{self.dossier_id}/instalments", Role.instructor, {}
            )
            if response.status_code == 409 and _reason(response) == "ActivityReportAwaited":
                self.say(f"[dim]not yet: {escape(self.detail(response))}[/]")
                self.activity_report()
                continue
            if response.status_code == 409:  # the next one is the balance: it waits for the report
                self.say(f"[dim]no more now: {escape(self.detail(response))}[/]")
                return
            self.show(self.answer(response, "payments", "POST /instalments").get("recorded", []))
        raise DemoStopped(
            f"payments paid {MAX_INSTALMENTS} instalments and never reached the balance"
        )

    def activity_report(self) -> None:
        self.step(
            "The commune files an activity report",
            "what it did and spent so far, asking for the instalment it unlocks, as applicant",
        )
        self.command(
            "payments",
            "/activity-reports",
            Role.applicant,
            {
                "summary": "Mi-parcours : 90 jeunes accompagnés, 20 professionnels formés.",
                "spent_to_date_eur": "90000.00",
                "instalment_asked": True,
            },
        )

    def final_report(self) -> None:
        self.step("The commune files its final report", "the spending it justifies, as applicant")
        self.command(
            "payments",
            "/final-report",
            Role.applicant,
            {
                "justified_spending_eur": self.dossier["budget"]["total_cost_eur"],
                "summary": "Évaluation : 180 jeunes accompagnés, 40 professionnels formés, "
                "deux points de deal abandonnés selon la gendarmerie.",
            },
        )

    def departmental_opinion(self) -> None:
        self.step(
            "The departmental project lead gives a motivated opinion",
            "on the action's effectiveness, as prefecture",
        )
        self.command(
            "payments",
            "/departmental-opinion",
            Role.prefecture,
            {
                "opinion": "favorable",
                "motivation": "Les indicateurs du rapport final montrent une action efficace.",
            },
        )

    def balance(self) -> None:
        self.step("MILDECA releases the balance (solde)", "as instructor")
        self.command("payments", "/balance", Role.instructor, {})

    def mails(self, settle: float = 4.0) -> None:
        self.step("The mails sent", "to the commune, MILDECA and the préfecture, by notifications")
        path = f"/dossiers/{self.dossier_id}/notifications"
        count, changed, deadline = -1, time.monotonic(), time.monotonic() + self.timeout
        with self.console.status(
            f"waiting for the mails to stop coming (none new for {settle:.0f} s; "
            f"GET notifications {path})"
        ):
            while True:
                mails = self.answer(
                    self.call("notifications", "GET", path, Role.auditor),
                    "notifications",
                    f"GET {path}",
                )
                if len(mails) != count:
                    count, changed = len(mails), time.monotonic()
                if (count and time.monotonic() - changed >= settle) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        if not mails:
            raise DemoStopped(f"no mail was sent for {self.reference} within {self.timeout:.0f} s")
        table = Table("sent at", "template", "to")
        for mail in mails:
            table.add_row(
                str(mail.get("sent_at", ""))[:19],
                str(mail.get("template", "")),
                str(mail.get("recipients", "")),
            )
        self.console.print(table)

    # -- HTTP, waiting, printing -------------------------------------------------------------

    def call(
        self,
        service: str,
        method: str,
        path: str,
        role: Role | None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        try:
            return self.client.request(
                method, self.urls[service] + path, json=body, headers=headers
            )
        except httpx.TransportError as error:
            raise DemoStopped(
                f"{service} does not answer at {self.urls[service]} ({error}): "
                "is the platform up? (./dev up)"
            ) from None

    def command(self, service: str, path: str, role: Role, body: dict[str, Any]) -> None:
        response = self.call(service, "POST", f"/dossiers/{self.dossier_id}{path}", role, body)
        self.show(self.answer(response, service, f"POST {path}").get("recorded", []))

    def answer(self, response: httpx.Response, service: str, what: str) -> Any:
        if not response.is_success:
            raise DemoStopped(
                f"{service} refused {what}: {response.status_code} {self.detail(response)}"
            )
        return response.json()

    @staticmethod
    def detail(response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500]
        if isinstance(body, dict) and "detail" in body:
            return f"{body.get('reason') or body.get('error', '')}: {body['detail']}".lstrip(": ")
        return json.dumps(body, ensure_ascii=False)[:500]

    def wait(
        self,
        what: str,
        service: str,
        path: str,
        ready: Callable[[Any], bool],
        interval: float = 0.3,
    ) -> Any:
        """Poll GET `path` (as auditor) until it answers 200 and `ready`; 404 means not yet."""
        deadline = time.monotonic() + self.timeout
        with self.console.status(
            f"waiting for {what} (GET {service} {path}, up to {self.timeout:.0f} s)"
        ):
            while True:
                response = self.call(service, "GET", path, Role.auditor)
                if response.status_code != 404:
                    view = self.answer(response, service, f"GET {path}")
                    if ready(view):
                        return view
                if time.monotonic() > deadline:
                    raise DemoStopped(
                        f"timed out after {self.timeout:.0f} s waiting for {what} "
                        f"of {self.reference} ({service} GET {path})"
                    )
                time.sleep(interval)

    def step(self, title: str, how: str) -> None:
        self.step_number += 1
        self.console.rule(f"[bold]{self.step_number}. {title}[/]", align="left")
        self.console.print(f"[dim]{how}[/]")

    def say(self, text: str) -> None:
        self.console.print(f"  {text}")

    def show(self, recorded: list[dict[str, Any]]) -> None:
        for event in recorded:
            data = event.get("data") or {}
            facts = ", ".join(f"{k}={_short(v)}" for k, v in data.items() if k not in QUIET)
            self.console.print(
                f"  [green]✓ {escape(str(event.get('type')))}[/] "
                f"[dim](v{event.get('version')})[/] {escape(facts)}"
            )


def _ranked(ranking: Any) -> list[dict[str, Any]]:
    """The rows of a ranking, whether it comes as a list or inside an object."""
    rows = (
        ranking
        if isinstance(ranking, list)
        else ranking.get("dossiers") or ranking.get("ranking") or []
    )
    return [row for row in rows if isinstance(row, dict)]


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return f"[{len(value)} items]" if value and isinstance(value[0], dict) else str(value)
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:57] + "…")
    return str(value)


def _reason(response: httpx.Response) -> str | None:
    """The named rule a refusal gives (`reason` of the problem details), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("reason") if isinstance(body, dict) else None
