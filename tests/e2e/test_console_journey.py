"""A whole call in the browser: the people of each role log in through the OpenID provider and
take one dossier from the filing form to the balance, each step by the person whose role allows
it; a préfecture of another département sees none of it; a form with bad input shows its errors
and records nothing."""

import re

from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import Console, console, logged_in, until_shown  # noqa: F401 (fixtures)

MAIRE, PREFECTURE, AUTRE_PREFECTURE = "maire.roubaix", "prefecture.nord", "prefecture.pas-de-calais"
INSTRUCTION, PRESIDENCE, CONTROLE = "instructeur", "presidente", "auditeur"


async def fill_dossier(page: Page, *, requested: str = "150000.00") -> None:
    """The form of the call, filled as the commune of Roubaix would fill it."""
    await page.get_by_label("Appel à projets").select_option("demo")
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
