"""The console as a person reaches it: its process beside the running services, the demo people of
the OpenID provider (deploy/keycloak), logged in through the provider's own login page in
Chromium, each in a browser context of their own."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from shared.language.actors import Role
from tests.conftest import settings_env
from tests.e2e.conftest import Platform
from tests.factories import eligible_dossier
from tests.helpers import bearer, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
ISSUER = os.environ.get("AAP_OIDC_ISSUER", "http://127.0.0.1:28080/realms/aap")
PASSWORD = "demo"  # every demo person's (deploy/keycloak/README.md)
HABILITATIONS = ROOT / "deploy" / "keycloak" / "habilitations-demo.json"
ROUBAIX = "215905126"  # maire.roubaix's SIREN (deploy/keycloak/README.md)


@dataclass(frozen=True)
class Console:
    url: str
    log: Path

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
async def console(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    """The console on a port of its own, calling the platform's services, with the demo agents'
    habilitations; the provider must be running (./dev test starts it)."""
    async with httpx.AsyncClient() as client:
        try:
            found = await client.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10)
        except httpx.TransportError as error:
            pytest.fail(
                f"the OpenID provider does not answer at {ISSUER} ({error}): "
                "run deploy/local/keycloak.sh start (./dev test does)"
            )
        assert found.status_code == 200, found.text
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **settings_env(platform.settings),
        "AAP_CONSOLE_URL": url,
        "AAP_OIDC_ISSUER": ISSUER,
        "AAP_CONSOLE_SESSION_SECRET": "tests-only",
        **{f"AAP_{s.upper()}_URL": u for s, u in platform.urls.items()},
    }
    habilitated = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "habilitations", "load", str(HABILITATIONS)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert habilitated.returncode == 0, habilitated.stdout + habilitated.stderr
    log = tmp_path_factory.mktemp("console") / "console.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "console", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    async def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the console exited:\n{log.read_text()[-3000:]}")
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(url + "/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await wait_for(ready, timeout=60, what="the console to be ready")
        yield Console(url, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def demo_people() -> dict[str, dict[str, str]]:
    """Login → email, from the provider's realm (the habilitations name agents by e-mail)."""
    realm = json.loads((ROOT / "deploy" / "keycloak" / "aap-realm.json").read_text())
    return {u["username"]: {"email": u["email"]} for u in realm["users"]}


@asynccontextmanager
async def logged_in(browser: Browser, console: Console, login: str) -> AsyncIterator[Page]:
    """`login` logged in through the provider's login page, in a context of its own."""
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    try:
        await page.goto(console.at("/"))
        await page.locator("a.fr-connect").click()
        await page.locator("#username").fill(login)
        await page.locator("#password").fill(PASSWORD)
        await page.locator("#kc-login").click()
        await page.wait_for_url(f"{console.url}/**")
        yield page
    finally:
        await context.close()


async def until_shown(page: Page, url: str, text: str, timeout: float = 60) -> None:
    """Reload `url` until the page shows `text` (what a service does on its own takes a moment)."""

    async def shown() -> bool:
        await page.goto(url)
        return bool(await page.get_by_text(text, exact=False).count())

    await wait_for(shown, timeout=timeout, interval=1, what=f"«{text}» on {url}")
    await expect(page.get_by_text(text, exact=False).first).to_be_visible()


async def fill_dossier(
    page: Page, *, requested: str = "150000.00", campaign: str | None = "demo"
) -> None:
    """The form of the call, filled as the commune of Roubaix would fill it (a draft's form has
    its campaign already: `campaign=None`)."""
    if campaign:
        await page.get_by_label("Appel à projets").select_option(campaign)
    await page.get_by_label("Nom de la collectivité").fill("Commune de Roubaix")
    await page.get_by_label("Commune", exact=True).check(
        force=True
    )  # DSFR draws its own box over the input
    await page.get_by_label("Département").select_option("59")
    await page.get_by_label("Nom et prénom").fill("Guillaume Delbar")
    await page.get_by_label("Qualité").select_option("maire")
    await page.get_by_label("Titre du projet").fill(
        "Roubaix : prévenir l'entrée des jeunes dans les trafics"
    )
    await page.get_by_label("Résumé").fill(
        "Plan d'action partenarial sur trois quartiers, piloté par le CLSPD."
    )
    await page.get_by_label("Territoire").fill("Quartiers de l'Alma, du Pile et des Trois-Ponts")
    await page.get_by_label("Publics bénéficiaires").fill("Jeunes de 10 à 18 ans et leurs parents")
    for objective in (
        "Prévenir l'entrée dans les réseaux",
        "Reconquérir l'espace public aux points de deal",
    ):
        await page.get_by_label(objective).check(
            force=True
        )  # DSFR draws its own box over the input
    await page.get_by_label("Durée (mois)").fill("36")
    await page.get_by_label("Partenaire 1", exact=True).fill("Parquet de Lille")
    await page.get_by_label("Nature du partenaire 1").fill("justice")
    lines = [
        ("1", "actions", "Ateliers de prévention au collège", "120000.00"),
        ("2", "actions", "Médiation dans l'espace public", "100000.00"),
        ("3", "evaluation", "Évaluation par un laboratoire", "80000.00"),
    ]
    for row, (year, category, label, amount) in enumerate(lines, start=1):
        await page.get_by_label(f"Année {row}", exact=True).fill(year)
        await page.get_by_label(f"Catégorie {row}", exact=True).select_option(category)
        await page.get_by_label(f"Poste {row}", exact=True).fill(label)
        await page.get_by_label(f"Montant {row} (€)", exact=True).fill(amount)
    await page.get_by_label("Coût total du projet (€)").fill("300000.00")
    await page.get_by_label("Subvention demandée (€)").fill(requested)


async def checked_dossier(platform: Platform) -> str:
    """A dossier of Roubaix's, filed and found eligible: waiting for the préfecture's opinion."""
    dossier = eligible_dossier()
    dossier["applicant"]["siren"] = ROUBAIX
    async with httpx.AsyncClient(timeout=30) as client:
        filed = await client.post(
            platform.url("applications", "/campaigns/demo/dossiers"),
            json=dossier,
            headers=bearer(platform.settings, Role.applicant, siren=ROUBAIX),
        )
        assert filed.status_code == 201, filed.text
        dossier_id = str(filed.json()["dossier_id"])
        instructor = bearer(platform.settings, Role.instructor)

        async def checked() -> bool:
            answer = await client.get(
                platform.url("selection", f"/dossiers/{dossier_id}"), headers=instructor
            )
            return answer.status_code == 200 and answer.json().get("state") == "awaiting_opinion"

        await wait_for(checked, what="the eligibility check and the opinion asked for")
    return dossier_id
