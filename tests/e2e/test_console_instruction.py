"""Instruction in the browser, as the agents who run calls ask for it: the thread of a dossier
and the agents' notes (an applicant never sees a note, nor a file for the agents alone, not even
at its address), a file joined and downloaded through the console, a correction asked by the
instructor and answered by the commune in the filing form's own fields, and a draft saved,
shown to the préfecture, commented on by it, then filed (its errors beside the fields first)."""

import asyncio
import re
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import (  # noqa: F401 (fixtures)
    Console,
    checked_dossier,
    console,
    fill_dossier,
    logged_in,
)

MAIRE, PREFECTURE, INSTRUCTION = "maire.roubaix", "prefecture.nord", "instructeur"
# Files the service reads by their content: a PDF and a PNG, each as small as can be.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
RIB = PDF.replace(b"Catalog", b"Catalog /RIB (FR76)")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


def file(name: str, content: bytes, media_type: str) -> dict[str, object]:
    return {"name": name, "mimeType": media_type, "buffer": content}


async def check(page: Page, label: str) -> None:
    await page.get_by_label(label, exact=True).check(force=True)  # DSFR draws its own box


async def test_thread_notes_files_a_correction_and_a_draft_in_the_browser(
    browser: Browser, console: Console, platform: Platform
):
    dossier = await checked_dossier(platform)  # Roubaix's, waiting for the préfecture's opinion
    here = console.at(f"/dossiers/{dossier}")
    async with logged_in(browser, console, MAIRE) as maire:
        # the commune writes in the thread, with its council's deliberation
        await maire.goto(here)
        await maire.get_by_label("Votre message").fill("Voici la délibération du conseil.")
        await maire.locator("#message-files").set_input_files(
            [file("deliberation.pdf", PDF, "application/pdf")]
        )
        await maire.get_by_role("button", name="Envoyer le message").click()
        thread = maire.locator("#messagerie")
        await expect(thread.get_by_text("Voici la délibération du conseil.")).to_be_visible()
        await expect(
            thread.get_by_role("link", name=re.compile("deliberation.pdf"))
        ).to_be_visible()
        # joins its bank details, and gets them back through the console, byte for byte
        await maire.locator("#piece-file").set_input_files(
            [file("rib.pdf", RIB, "application/pdf")]
        )
        await maire.get_by_label("Nature de la pièce").select_option("bank_details")
        await maire.get_by_role("button", name="Joindre le fichier").click()
        pieces = maire.locator("#pieces")
        await expect(pieces.get_by_text("Le fichier est joint au dossier.")).to_be_visible()
        async with maire.expect_download() as downloading:
            await pieces.get_by_role("link", name=re.compile("rib.pdf")).click()
        downloaded = await downloading.value
        assert downloaded.suggested_filename == "rib.pdf"
        saved = Path(str(await downloaded.path()))
        assert await asyncio.to_thread(saved.read_bytes) == RIB

        async with logged_in(browser, console, INSTRUCTION) as instructor:
            await instructor.goto(here)
            await expect(
                instructor.locator("#messagerie").get_by_text("Voici la délibération du conseil.")
            ).to_be_visible()
            # a note among agents, with a file for the agents alone
            await instructor.get_by_label("Votre note").fill("Délibération à vérifier.")
            await instructor.locator("#note-files").set_input_files(
                [file("analyse.png", PNG, "image/png")]
            )
            await instructor.get_by_role("button", name="Ajouter la note").click()
            notes = instructor.locator("#notes")
            await expect(notes.get_by_text("Délibération à vérifier.")).to_be_visible()
            private = await notes.get_by_role("link", name=re.compile("analyse.png")).get_attribute(
                "href"
            )
            assert private
            # a correction of the summary and the budget, by a date
            await check(instructor, "Le résumé du projet")
            await check(instructor, "Le budget prévisionnel")
            await instructor.get_by_label("Motif de la demande").fill(
                "Précisez le résumé et le coût de la réappropriation des halls."
            )
            due = (date.today() + timedelta(days=10)).isoformat()
            await instructor.get_by_label("À corriger avant le").fill(due)
            await instructor.get_by_role("button", name="Demander la correction").click()
            await expect(
                instructor.get_by_text("La demande de correction est envoyée")
            ).to_be_visible()
            await expect(instructor.locator("#correction")).to_contain_text(
                "Le budget prévisionnel"
            )

        # the commune sees neither the note nor its file, not even at the file's address
        await maire.goto(here)
        await expect(maire.locator("#notes")).to_have_count(0)
        await expect(maire.get_by_text("Délibération à vérifier.")).to_have_count(0)
        await expect(maire.get_by_text("analyse.png")).to_have_count(0)
        refused = await maire.goto(console.at(private))
        assert refused is not None and refused.status == 404
        # it corrects the parts asked, and those only, prefilled with its dossier
        await maire.goto(here)
        await expect(maire.locator("#correction")).to_contain_text("Précisez le résumé")
        await maire.get_by_role("link", name="Corriger le dossier").click()
        summary = maire.get_by_label("Résumé")
        await expect(summary).to_have_value(re.compile("piloté par le CLSPD"))
        await expect(maire.get_by_label("Titre du projet")).to_have_count(0)  # not asked
        await summary.fill("Plan d'action partenarial sur trois quartiers, avec les bailleurs.")
        await expect(maire.get_by_label("Montant 4 (€)", exact=True)).to_have_value("65000.00")
        await maire.get_by_label("Montant 4 (€)", exact=True).fill("75000.00")
        await maire.get_by_label("Coût total du projet (€)").fill("210000.00")
        await maire.get_by_role("button", name="Envoyer la correction").click()
        await expect(maire.get_by_text("Votre correction est enregistrée")).to_be_visible()
        history = maire.locator("ol").filter(has_text="Corrigé par la collectivité")
        await expect(history).to_contain_text("Budget, ligne 4")
        await expect(history).to_contain_text("75 000,00")
        await expect(history).to_contain_text("avec les bailleurs")

        # a draft: whatever was typed, kept; then shown to the préfecture
        title = "Roubaix : un projet écrit avec la préfecture"
        await maire.goto(console.at("/deposer"))
        await maire.get_by_label("Appel à projets").select_option("demo")
        await maire.get_by_label("Titre du projet").fill(title)
        await maire.get_by_label("Département").select_option("59")
        await maire.get_by_role("button", name="Enregistrer le brouillon").click()
        await expect(maire.get_by_text("Votre brouillon est enregistré")).to_be_visible()
        await expect(maire.get_by_label("Titre du projet")).to_have_value(title)
        draft = maire.url.split("?")[0]
        await maire.get_by_role("button", name="Présenter à la préfecture").click()
        await expect(maire.get_by_text("Votre brouillon est présenté")).to_be_visible()

        async with logged_in(browser, console, PREFECTURE) as prefecture:
            # the préfecture reads the note (it is an agent) and comments on the draft
            await prefecture.goto(here)
            await expect(
                prefecture.locator("#notes").get_by_text("Délibération à vérifier.")
            ).to_be_visible()
            await prefecture.goto(console.at("/brouillons"))
            await prefecture.get_by_role("link", name=title).click()
            await prefecture.get_by_label("Votre commentaire").fill(
                "Associez la police municipale au partenariat."
            )
            await prefecture.get_by_role("button", name="Envoyer le commentaire").click()
            await expect(prefecture.get_by_text("Votre commentaire est envoyé")).to_be_visible()

        # the commune reads the comment on its draft, files it: first with its gaps
        await maire.goto(console.at("/dossiers"))
        await maire.locator("#brouillons ~ .fr-table").get_by_role("link", name=title).click()
        assert maire.url.split("?")[0] == draft
        await expect(maire.get_by_text("Associez la police municipale")).to_be_visible()
        await maire.get_by_role("button", name="Déposer le dossier").click()
        await expect(maire.get_by_text("Le formulaire contient des erreurs")).to_be_visible()
        group = maire.locator(".fr-input-group--error:has(#project-summary)")
        await expect(group.locator(".fr-message--error")).to_contain_text("obligatoire")
        await fill_dossier(maire, campaign=None)
        await maire.get_by_role("button", name="Déposer le dossier").click()
        await expect(maire.get_by_text("Votre dossier est déposé")).to_be_visible()
        assert maire.url.split("?")[0] == draft.replace("/brouillons/", "/dossiers/")
