"""A whole call in the browser: the people of each role log in through the OpenID provider and
take one dossier from the filing form to the balance, each step by the person whose role allows
it; a préfecture of another département sees none of it; a form with bad input shows its errors
and records nothing."""

import re

from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import (  # noqa: F401 (fixtures)
    Console,
    console,
    fill_dossier,
    logged_in,
    until_shown,
)

MAIRE, PREFECTURE, AUTRE_PREFECTURE = "maire.roubaix", "prefecture.nord", "prefecture.pas-de-calais"
INSTRUCTION, PRESIDENCE, CONTROLE = "instructeur", "presidente", "auditeur"


async def act(page: Page, button: str) -> None:
    await page.get_by_role("button", name=button).click()
    await expect(page.locator(".fr-alert--success")).to_be_visible()


async def test_every_role_takes_one_dossier_from_the_form_to_the_balance_in_the_browser(
    browser: Browser, console: Console, platform: Platform
):
    # the commune files its dossier through the form
    async with logged_in(browser, console, MAIRE) as page:
        await page.goto(console.at("/deposer"))
        await fill_dossier(page)
        await page.get_by_role("button", name="Déposer le dossier").click()
        await expect(page.get_by_text("Votre dossier est déposé")).to_be_visible()
        dossier = page.url.split("/dossiers/")[1].split("?")[0]
        here = console.at(f"/dossiers/{dossier}")
        # MILDECA checks eligibility on its own: the dossier goes to its préfecture
        await until_shown(page, here, "Avis de la préfecture attendu")
    async with logged_in(browser, console, PREFECTURE) as page:
        await page.goto(here)
        await page.get_by_label("Favorable", exact=True).check(
            force=True
        )  # DSFR draws its own box over the input
        await page.get_by_label("Motivation").fill(
            "Plan global porté par le maire, avec la police et le parquet."
        )
        await act(page, "Donner l'avis")
    async with logged_in(browser, console, INSTRUCTION) as page:
        await until_shown(page, here, "Avis de la préfecture rendu")
        for criterion in (
            "Adéquation au cahier des charges",
            "Caractère innovant",
            "Compétence de l'équipe",
            "Qualité méthodologique",
            "Qualité du partenariat",
            "Avis de la préfecture",
        ):
            await page.get_by_label(criterion, exact=True).select_option("4")
        await page.get_by_label("Montant proposé (€)").fill("120000.00")
        await page.get_by_label("Commentaire du comité").fill("Plusieurs leviers coordonnés.")
        await act(page, "Enregistrer l'évaluation")
    async with logged_in(browser, console, PRESIDENCE) as page:
        await until_shown(page, here, "Évalué par le comité")
        await page.get_by_label("Retenu", exact=True).check(
            force=True
        )  # DSFR draws its own box over the input
        await page.get_by_label("Montant attribué (€), si retenu").fill("120000.00")
        await page.get_by_label("Motivation").fill("Avis favorables de la préfecture et du comité.")
        await act(page, "Décider")
    # the tripartite convention, signed by each of its parties
    for who in (MAIRE, PREFECTURE, PRESIDENCE):
        async with logged_in(browser, console, who) as page:
            await until_shown(page, here, "Signer la convention tripartite")
            await act(page, "Signer la convention")
    async with logged_in(browser, console, INSTRUCTION) as page:
        # payments commits the funds on its own, at the third signature
        await until_shown(page, here, "Verser l'échéance suivante")
        await act(page, "Verser l'échéance")
        # the next instalment is paid on the commune's first activity report
        await until_shown(page, here, "attend le rapport d'activité n° 1")
    async with logged_in(browser, console, MAIRE) as page:
        await page.goto(here)
        await page.get_by_label("Synthèse des actions menées à ce jour").fill(
            "Deux quartiers couverts, 180 jeunes accompagnés."
        )
        await page.get_by_label("Dépenses engagées à ce jour (€)").fill("90000.00")
        await act(page, "Déposer le rapport d'activité")
    async with logged_in(browser, console, INSTRUCTION) as page:
        await until_shown(page, here, "1 rapport(s) d'activité déposé(s)")
        await act(page, "Verser l'échéance")
    async with logged_in(browser, console, MAIRE) as page:
        await page.goto(here)
        await page.get_by_label("Dépenses justifiées (€)").fill("300000.00")
        await page.get_by_label("Synthèse de l'évaluation de l'action").fill(
            "420 jeunes touchés, deux points de deal fermés."
        )
        await act(page, "Déposer le rapport final")
    async with logged_in(browser, console, PREFECTURE) as page:
        await until_shown(page, here, "Avis motivé avant le versement du solde")
        await page.get_by_label("Favorable", exact=True).check(
            force=True
        )  # DSFR draws its own box over the input
        await page.get_by_label("Motivation").fill(
            "Action efficace au vu du rapport final et des indicateurs."
        )
        await act(page, "Donner l'avis motivé")
    async with logged_in(browser, console, INSTRUCTION) as page:
        await until_shown(page, here, "Avis motivé du chef de projet départemental (favorable)")
        await act(page, "Verser le solde")
        await until_shown(page, here, "Solde versé")
    # the auditor replays it all, and checks every chain
    async with logged_in(browser, console, CONTROLE) as page:
        await page.goto(console.at(f"/controle/{dossier}"))
        await expect(page.get_by_text("Chaînes publiées intactes")).to_be_visible()
        await expect(page.get_by_role("cell", name="BalanceReleased")).to_be_visible()
        await page.get_by_role("button", name=re.compile("Vérifier les magasins")).click()
        await expect(page.locator("#verification .fr-badge--success")).to_have_count(4)


async def test_a_prefecture_of_another_departement_sees_none_of_the_59s_dossiers(
    browser: Browser, console: Console
):
    async with logged_in(browser, console, MAIRE) as page:
        await page.goto(console.at("/deposer"))
        await fill_dossier(page)
        await page.get_by_role("button", name="Déposer le dossier").click()
        await expect(page.get_by_text("Votre dossier est déposé")).to_be_visible()
        here = page.url.split("?")[0]
        await until_shown(page, here, "Avis de la préfecture attendu")
    async with logged_in(browser, console, AUTRE_PREFECTURE) as page:
        await page.goto(console.at("/campagnes/tableau?etat="))
        await expect(page.locator("tbody")).not_to_contain_text("Commune de Roubaix")
        answer = await page.goto(here)
        assert answer is not None and answer.status == 404
        await expect(page.get_by_text("n'est pas de votre ressort")).to_be_visible()


async def test_a_form_with_bad_input_shows_each_error_beside_its_field_and_files_nothing(
    browser: Browser, console: Console
):
    async with logged_in(browser, console, MAIRE) as page:
        await page.goto(console.at("/dossiers"))
        before = await page.locator("tbody tr").count()
        await page.goto(console.at("/deposer"))
        await fill_dossier(page, requested="douze mille")
        await page.get_by_label("Titre du projet").fill("   ")
        await page.get_by_role("button", name="Déposer le dossier").click()
        await expect(page.get_by_text("Le formulaire contient des erreurs")).to_be_visible()
        # each reason beside its field, in French, in the group the DSFR marks as in error
        for field, reason in (
            ("requested_eur", "Indiquez un montant en euros"),
            ("project-title", "Écrivez quelque chose"),
        ):
            group = page.locator(f".fr-input-group--error:has(#{field})")
            await expect(group.locator(".fr-message--error")).to_contain_text(reason)
        # and listed at the top by their labels, each a link to its field
        summary = page.locator(".fr-alert--error")
        await expect(summary.get_by_role("link", name="Subvention demandée (€)")).to_be_visible()
        await expect(summary.get_by_role("link", name="Titre du projet")).to_be_visible()
        await page.goto(console.at("/dossiers"))
        assert await page.locator("tbody tr").count() == before
