"""Every page of the console, checked by axe-core in Chromium as each person sees it: no
violation of impact "serious" or "critical" (RGAA's automatic part). With AAP_SCREENSHOTS set to a
folder, each page is also photographed there (docs/screenshots, shown in the README)."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from shared.language.actors import Role
from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import (  # noqa: F401 (fixtures)
    ROUBAIX,
    Console,
    checked_dossier,
    console,
    logged_in,
)
from tests.e2e.steps import SCORES
from tests.helpers import bearer, wait_for

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = os.environ.get("AAP_SCREENSHOTS", "")


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


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


async def _command(
    client: httpx.AsyncClient, platform: Platform, path: str, role: Role, **kwargs: Any
) -> dict[str, Any]:
    binding = {"siren": ROUBAIX} if role is Role.applicant else {}
    binding |= {"departement": "59"} if role is Role.prefecture else {}
    done = await client.post(
        platform.url("applications", path),
        headers=bearer(platform.settings, role, **binding),
        **kwargs,
    )
    assert done.status_code == 201, done.text
    body: dict[str, Any] = done.json()
    return body


async def _shown(
    client: httpx.AsyncClient, platform: Platform, path: str, role: Role, what: str
) -> None:
    binding = {"siren": ROUBAIX} if role is Role.applicant else {}

    async def read() -> bool:
        answer = await client.get(
            platform.url("applications", path), headers=bearer(platform.settings, role, **binding)
        )
        return answer.status_code == 200 and what in json.dumps(answer.json(), ensure_ascii=False)

    await wait_for(read, what=f"{what} in {path}")


async def exchanged(platform: Platform, dossier_id: str) -> None:
    """The dossier's thread, files and notes, as the three sides fill them (through the API)."""
    at = f"/dossiers/{dossier_id}"
    async with httpx.AsyncClient(timeout=30) as client:
        deliberation = await _command(
            client,
            platform,
            f"{at}/attachments",
            Role.applicant,
            data={"kind": "deliberation"},
            files={"file": ("deliberation.pdf", PDF, "application/pdf")},
        )
        attached = deliberation["recorded"][0]["data"]["attachment"]["attachment_id"]
        text = "Voici la délibération du conseil municipal du 3 mars."
        body = {"text": text, "attachments": [attached]}
        await _command(client, platform, f"{at}/messages", Role.applicant, json=body)
        answer = {"text": "Bien reçue : le comité l'examinera.", "attachments": []}
        await _command(client, platform, f"{at}/messages", Role.instructor, json=answer)
        private = await _command(
            client,
            platform,
            f"{at}/attachments",
            Role.instructor,
            data={"kind": "other", "audience": "agents"},
            files={"file": ("analyse.png", PNG, "image/png")},
        )
        analysis = private["recorded"][0]["data"]["attachment"]["attachment_id"]
        note = {"text": "Délibération conforme ; budget à suivre.", "attachments": [analysis]}
        await _command(client, platform, f"{at}/notes", Role.instructor, json=note)
        await _shown(client, platform, f"{at}/notes", Role.instructor, "budget à suivre")
        await _shown(client, platform, f"{at}/messages", Role.instructor, "Bien reçue")


async def correction_asked(platform: Platform, dossier_id: str) -> None:
    body = {
        "fields": ["project.summary", "budget", "project.partners"],
        "reason": "Précisez le rôle de chaque partenaire et le coût des actions en collège.",
    }
    at = f"/dossiers/{dossier_id}"
    async with httpx.AsyncClient(timeout=30) as client:
        await _command(client, platform, f"{at}/correction-request", Role.instructor, json=body)
        await _shown(client, platform, at, Role.applicant, "correction_requested")


async def shared_draft(platform: Platform) -> str:
    """A draft of Roubaix's, shown to the préfecture du Nord, which commented on it."""
    content = {
        "applicant": {"siren": ROUBAIX, "name": "Commune de Roubaix", "departement": "59"},
        "project": {
            "title": "Roubaix : les halls rendus aux habitants",
            "summary": "Un plan d'action avec les bailleurs sociaux, à préciser.",
        },
    }
    async with httpx.AsyncClient(timeout=30) as client:
        saved = await _command(
            client, platform, "/campaigns/demo/drafts", Role.applicant, json={"content": content}
        )
        draft = str(saved["draft_id"])
        await _command(client, platform, f"/drafts/{draft}/sharing", Role.applicant, json={})
        comment = {"text": "Associez la police municipale et le délégué du préfet."}
        await _command(client, platform, f"/drafts/{draft}/comments", Role.prefecture, json=comment)
        await _shown(client, platform, f"/drafts/{draft}", Role.applicant, "délégué du préfet")
    return draft


async def test_no_page_of_the_console_has_a_serious_or_critical_accessibility_violation(
    browser: Browser, console: Console, platform: Platform
):
    dossier = await assessed_dossier(platform)
    await exchanged(platform, dossier)
    corrected = await checked_dossier(platform)  # one the préfecture has still to give its opinion
    await correction_asked(platform, corrected)  # on, and a correction is asked of it
    draft = await shared_draft(platform)
    if SHOTS:
        await asyncio.to_thread(Path(SHOTS).mkdir, parents=True, exist_ok=True)
    pages = {
        None: ["/", "/accessibilite"],
        "sans.habilitation": ["/"],
        "maire.roubaix": [
            "/dossiers",
            "/deposer?campagne=demo",
            f"/dossiers/{dossier}",
            (f"/dossiers/{corrected}", "dossiers_correction-demandee"),
            (f"/dossiers/{corrected}/correction", "dossiers_corriger"),
            (f"/brouillons/{draft}", "brouillons_un-brouillon"),
        ],
        "prefecture.nord": [
            "/campagnes/tableau?campagne=demo",
            "/campagnes?campagne=demo",
            f"/dossiers/{dossier}",
            "/habilitations",
            "/brouillons",
            (f"/brouillons/{draft}", "brouillons_un-brouillon"),
        ],
        "instructeur": [
            "/campagnes?campagne=demo",
            "/campagnes/tableau?campagne=demo&etat=",
            "/classement?campagne=demo",
            f"/dossiers/{dossier}",
            (f"/dossiers/{corrected}", "dossiers_correction-demandee"),
        ],
        "presidente": ["/classement?campagne=demo", f"/dossiers/{dossier}"],
        "auditeur": [
            "/controle",
            f"/controle/{dossier}",
            "/dossiers/inconnu",
            f"/dossiers/{dossier}",
        ],
    }
    found: dict[str, list[dict[str, Any]]] = {}
    for who, paths in pages.items():
        if who is None:
            context = await browser.new_context(locale="fr-FR")
            page = await context.new_page()
            for path in paths:
                assert isinstance(path, str)
                await page.goto(console.at(path))
                found[f"anonyme {path}"] = await violations(page)
                await _shoot(page, "anonyme", path)
            await context.close()
            continue
        async with logged_in(browser, console, who) as page:
            for shown in paths:
                path, name = shown if isinstance(shown, tuple) else (shown, None)
                await page.goto(console.at(path))
                found[f"{who} {path}"] = await violations(page)
                await _shoot(page, who, path, name)
            if who == "maire.roubaix":  # the form with its errors beside the fields
                await page.goto(console.at("/deposer?campagne=demo"))
                await page.get_by_role("button", name="Déposer le dossier").click()
                await page.get_by_text("Le formulaire contient des erreurs").wait_for()
                found[f"{who} /deposer (errors)"] = await violations(page)
                await _shoot(page, who, "/deposer-erreurs")
    assert {where: v for where, v in found.items() if v} == {}


async def _shoot(page: Page, who: str, path: str, name: str | None = None) -> None:
    """The page, whole, as `<who>_<page>.png` (a dossier's pages named for what they are)."""
    if not SHOTS:
        return
    what = name or path.strip("/").split("?")[0].replace("/", "_") or "accueil"
    if not name and what.startswith(("dossiers_", "controle_")) and len(what) > 30:
        what = what.split("_")[0] + "_un-dossier"
    await page.screenshot(path=str(Path(SHOTS) / f"{who}_{what}.png"), full_page=True)
