"""The committee in the browser, on a campaign of three reviewers per dossier: the instructor names
a committee member, who logs in, declares no conflict of interest, reads the dossier and scores
it, then reads the others' reviews; on another dossier the same member declares a conflict and
sees only that they are recused. The instructor records the consensus and a session of both
dossiers; the President decides them at once, is refused beyond the envelope with the reason in
French, then decides within it. Every page of it is checked by axe-core as it is seen."""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from services.console import habilitations
from services.console.present import CRITERIA
from shared.language.actors import Role
from shared.language.french import euros
from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import (  # noqa: F401 (fixtures)
    Console,
    console,
    demo_people,
    logged_in,
    until_shown,
)
from tests.e2e.steps import Journey, scores
from tests.e2e.test_committee import (
    ALICE,
    BRUNO,
    CHLOE,
    as_reviewer,
    cleared_and_reviewed,
    consensus,
    name,
    opinion_given,
)
from tests.e2e.test_console_accessibility import _shoot, violations

# A person of the provider whom aap does not know: a committee member for this test's length.
MEMBER = "sans.habilitation"
INSTRUCTION, PRESIDENCE = "instructeur", "presidente"


@pytest.fixture
async def member(platform: Platform) -> AsyncIterator[str]:
    """The e-mail of MEMBER, habilitated as a committee member until the test ends."""
    email = demo_people()[MEMBER]["email"]
    conn = await asyncpg.connect(platform.settings.admin_dsn("console"))
    try:
        await habilitations.grant(conn, email, "reviewer", None, "Marc Dubois, comité")
        yield email
    finally:
        await habilitations.revoke(conn, email)
        await conn.close()


async def accessible(page: Page, who: str, shot: str) -> None:
    """No serious or critical violation on the page; photographed as `<who>_<shot>.png`."""
    assert await violations(page) == [], page.url
    await _shoot(page, who, shot, shot)


async def score(page: Page, given: str, proposed: str, comment: str) -> None:
    for criterion in CRITERIA.values():
        await page.get_by_label(criterion, exact=True).select_option(given)
    await page.get_by_label("Montant proposé (€)").fill(proposed)
    await page.get_by_label(comment[0]).fill(comment[1])


async def recused_elsewhere(platform: Platform, member: str) -> Journey:
    """A second dossier, the member named on it beside Alice and Bruno (through the API)."""
    j = await opinion_given(platform)
    await name(j, member, ALICE, BRUNO)
    return j


async def test_a_committee_member_declares_and_scores_then_a_session_is_decided_at_once(
    browser: Browser, console: Console, platform: Platform, member: str
):
    first = await opinion_given(platform)
    second = await recused_elsewhere(platform, member)
    here = console.at(f"/dossiers/{first.dossier_id}")
    # The instructor sees the committee waiting, the consensus closed, and names the member.
    async with logged_in(browser, console, INSTRUCTION) as page:
        await page.goto(here)
        await expect(page.get_by_text("3 notations attendues avant le consensus")).to_be_visible()
        await expect(page.get_by_role("button", name="Enregistrer le consensus")).to_be_disabled()
        await page.get_by_label("Membre du comité").select_option(member)
        await page.get_by_role("button", name="Désigner l'examinateur").click()
        await expect(page.get_by_text("L'examinateur est désigné")).to_be_visible()
        await expect(page.locator("#comite").get_by_text(member)).to_be_visible()
        await accessible(page, "instructeur", "dossier-comite")
    await name(first, ALICE, BRUNO)
    await cleared_and_reviewed(first, ALICE, scores(innovation=5), "120000.00")
    # The member's home: the dossiers they review, each waiting for their declaration.
    async with logged_in(browser, console, MEMBER) as page:
        await expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers à examiner")
        await accessible(page, "examinateur", "examens")
        await page.get_by_role("link", name=first.reference).click()
        await expect(page.get_by_text("Je déclare n'avoir aucun conflit")).to_be_visible()
        await expect(page.get_by_text("si vous exercez un mandat électif")).to_be_visible()
        await expect(page.get_by_text("Avis de la préfecture")).to_have_count(0)  # nothing yet
        await accessible(page, "examinateur", "declaration")
        await page.get_by_label("Je déclare n'avoir aucun conflit").check(force=True)
        await page.get_by_role("button", name="Enregistrer ma déclaration").click()
        # Cleared: the dossier, and the others' reviews hidden until theirs is in.
        await expect(
            page.get_by_text("Votre déclaration d'intérêts est enregistrée")
        ).to_be_visible()
        await expect(page.get_by_text("Projet partenarial solide")).to_be_visible()
        await expect(page.get_by_text("Vous lirez celles des autres examinateurs")).to_be_visible()
        await score(page, "4", "120000.00", ("Votre commentaire", "Leviers bien coordonnés."))
        await page.get_by_role("button", name="Enregistrer ma notation").click()
        await expect(page.get_by_text("Votre notation est enregistrée")).to_be_visible()
        await expect(page.get_by_role("columnheader", name=ALICE)).to_be_visible()
        await accessible(page, "examinateur", "notation")
        # On the other dossier, an elected office in the collectivité: recused, nothing shown.
        await page.goto(console.at(f"/examens/{second.dossier_id}"))
        await page.get_by_label("Je déclare un conflit d'intérêts").check(force=True)
        await page.get_by_label("Si vous déclarez un conflit : sa nature").select_option(
            "elected_office"
        )
        await page.get_by_label("Si vous déclarez un conflit : en quoi il consiste").fill(
            "Conseiller municipal de la commune depuis 2020."
        )
        await page.get_by_role("button", name="Enregistrer ma déclaration").click()
        await expect(page.get_by_text("Vous êtes déporté de ce dossier")).to_be_visible()
        await expect(page.get_by_text("Projet partenarial solide")).to_have_count(0)
        await expect(page.locator("form[action$='/notation']")).to_have_count(0)
        await accessible(page, "examinateur", "deporte")
        # A member reads no other page of the console.
        for path in ("/campagnes", "/classement", "/seances", f"/dossiers/{first.dossier_id}"):
            answer = await page.request.get(console.at(path), max_redirects=0)
            assert answer.status in (303, 403), path
    recused = await as_reviewer(second, member, "GET", "/review")
    assert recused.status_code == 403 and "recused" in recused.json()["detail"]
    await cleared_and_reviewed(first, BRUNO, scores(), "110000.00")
    await name(second, CHLOE)
    for who in (ALICE, BRUNO, CHLOE):
        await cleared_and_reviewed(second, who, scores(), "120000.00")
    await consensus(second, scores(), "120000.00")
    # The moderator's consensus, once the three reviews are in; then the session.
    async with logged_in(browser, console, INSTRUCTION) as page:
        await until_shown(page, here, "Toutes les notations sont là")
        await score(page, "4", "120000.00", ("Commentaire du comité", "Consensus du comité."))
        await page.get_by_role("button", name="Enregistrer le consensus").click()
        await expect(page.get_by_text("L'évaluation du comité est enregistrée")).to_be_visible()
        sessions = console.at("/seances?campagne=committee")
        await until_shown(page, sessions, first.reference)
        await page.get_by_label("Intitulé de la séance").fill("Comité de sélection du 2 décembre")
        await page.get_by_label("Tenue le").fill("2025-12-02T14:30")
        await page.get_by_label("Membres présents").fill(f"{member}\n{ALICE}\n{BRUNO}")
        await page.get_by_label("Procès-verbal").fill("Le comité a examiné deux dossiers.")
        for j in (first, second):
            await page.get_by_label(j.reference, exact=False).check(force=True)
        await accessible(page, "instructeur", "seances")
        await page.get_by_role("button", name="Enregistrer la séance").click()
        await expect(page.get_by_text("La séance est enregistrée")).to_be_visible()
        session = page.url.split("?")[0]
    # The President: both dossiers at 120,000 € are beyond the envelope of 200,000 €.
    async with logged_in(browser, console, PRESIDENCE) as page:
        await page.goto(session)
        await page.get_by_label("Motivation de la décision").fill("Au vu du classement.")
        await page.get_by_role("button", name="Décider les 2 dossiers").click()
        refused = page.get_by_role("alert")
        await expect(refused).to_contain_text("Les attributions de la séance totalisent")
        await expect(refused).to_contain_text("toute la séance est refusée")
        await accessible(page, "presidente", "seance-refusee")
        await page.get_by_label(f"Non retenu : {second.reference}").check(force=True)
        await page.get_by_label(f"Montant attribué à {first.reference}", exact=False).fill(
            "40000.00"
        )
        await page.get_by_role("button", name="Décider les 2 dossiers").click()
        await expect(page.get_by_text("Les dossiers de la séance sont décidés")).to_be_visible()
        await expect(page.get_by_role("cell", name=f"Retenu, {euros('40000.00')}")).to_be_visible()
        await expect(page.get_by_role("cell", name="Non retenu")).to_be_visible()
        await accessible(page, "presidente", "seance-decidee")
    for j, outcome in ((first, "selected"), (second, "rejected")):
        view = await j.seen("selection", lambda d: d.get("outcome"), "its decision")
        assert view["outcome"] == outcome
    committee = await first.call(
        "selection", "GET", f"/dossiers/{first.dossier_id}/committee", Role.instructor
    )
    assert {(r["reviewer"], r["status"]) for r in committee.json()["reviewers"]} == {
        (member, "reviewed"),
        (ALICE, "reviewed"),
        (BRUNO, "reviewed"),
    }
