"""Every page of the console, checked by axe-core in Chromium as each person sees it: no
violation of impact "serious" or "critical" (RGAA's automatic part). With AAP_SCREENSHOTS set to a
folder, each page is also photographed there (docs/screenshots, shown in the README)."""

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from shared.language.actors import Role
from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import Console, console, logged_in  # noqa: F401 (fixtures)
from tests.e2e.steps import SCORES
from tests.factories import eligible_dossier
from tests.helpers import bearer, wait_for

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = os.environ.get("AAP_SCREENSHOTS", "")
ROUBAIX = "215905126"  # maire.roubaix's SIREN (deploy/keycloak/README.md)


async def violations(page: Page) -> list[dict[str, Any]]:
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',"
        " 'wcag21aa', 'best-practice']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


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


async def assessed_dossier(platform: Platform) -> str:
    """A dossier of Roubaix's, assessed and waiting for the President (through the services)."""
    dossier_id = await checked_dossier(platform)
    steps = [
        (
            Role.prefecture,
            "/prefecture-opinion",
            {"opinion": "favorable", "motivation": "Plan solide."},
        ),
        (
            Role.instructor,
            "/assessment",
            {"scores": SCORES, "proposed_eur": "120000.00", "comment": "Plusieurs leviers."},
        ),
    ]
    async with httpx.AsyncClient(timeout=30) as client:
        for role, path, body in steps:
            binding = {"departement": "59"} if role is Role.prefecture else {}
            done = await client.post(
                platform.url("selection", f"/dossiers/{dossier_id}{path}"),
                json=body,
                headers=bearer(platform.settings, role, **binding),
            )
            assert done.status_code == 201, done.text
    return dossier_id


async def test_no_page_of_the_console_has_a_serious_or_critical_accessibility_violation(
    browser: Browser, console: Console, platform: Platform
):
    dossier = await assessed_dossier(platform)
    await checked_dossier(platform)  # and one the préfecture has still to give its opinion on
    if SHOTS:
        await asyncio.to_thread(Path(SHOTS).mkdir, parents=True, exist_ok=True)
    pages = {
        None: ["/", "/accessibilite"],
        "sans.habilitation": ["/"],
        "maire.roubaix": ["/dossiers", "/deposer?campagne=demo", f"/dossiers/{dossier}"],
        "prefecture.nord": [
            "/campagnes/tableau?campagne=demo",
            "/campagnes?campagne=demo",
            f"/dossiers/{dossier}",
            "/habilitations",
        ],
        "instructeur": [
            "/campagnes?campagne=demo",
            "/campagnes/tableau?campagne=demo&etat=",
            "/classement?campagne=demo",
            f"/dossiers/{dossier}",
        ],
        "presidente": ["/classement?campagne=demo", f"/dossiers/{dossier}"],
        "auditeur": ["/controle", f"/controle/{dossier}", "/dossiers/inconnu"],
    }
    found: dict[str, list[dict[str, Any]]] = {}
    for who, paths in pages.items():
        if who is None:
            context = await browser.new_context(locale="fr-FR")
            page = await context.new_page()
            for path in paths:
                await page.goto(console.at(path))
                found[f"anonyme {path}"] = await violations(page)
                await _shoot(page, "anonyme", path)
            await context.close()
            continue
        async with logged_in(browser, console, who) as page:
            for path in paths:
                await page.goto(console.at(path))
                found[f"{who} {path}"] = await violations(page)
                await _shoot(page, who, path)
            if who == "maire.roubaix":  # the form with its errors beside the fields
                await page.goto(console.at("/deposer?campagne=demo"))
                await page.get_by_role("button", name="Déposer le dossier").click()
                await page.get_by_text("Le formulaire contient des erreurs").wait_for()
                found[f"{who} /deposer (errors)"] = await violations(page)
                await _shoot(page, who, "/deposer-erreurs")
    assert {where: v for where, v in found.items() if v} == {}


async def _shoot(page: Page, who: str, path: str) -> None:
    """The page, whole, as `<who>_<page>.png` (a dossier's pages named for what they are)."""
    if not SHOTS:
        return
    what = path.strip("/").split("?")[0].replace("/", "_") or "accueil"
    if what.startswith(("dossiers_", "controle_")) and len(what) > 30:
        what = what.split("_")[0] + "_un-dossier"
    await page.screenshot(path=str(Path(SHOTS) / f"{who}_{what}.png"), full_page=True)
