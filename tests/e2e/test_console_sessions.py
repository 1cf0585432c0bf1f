"""The console's sessions as a person meets them in Chromium: the cookie's flags, an expired
session sent back to the login (whole pages and htmx parts alike), a logout that ends the
provider's session too, forms without their token refused, a person without habilitation shown
only the page that says so."""

import asyncpg
from playwright.async_api import Browser, expect

from services.console import habilitations
from tests.e2e.browser import browser, chromium_binary  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform
from tests.e2e.console import ISSUER, Console, console, logged_in  # noqa: F401 (fixtures)

AUTHORIZE = "/protocol/openid-connect/auth"


async def expire_sessions(platform: Platform, email: str) -> int:
    """The person's sessions as they stand once their time is up (the clock moved on)."""
    conn = await asyncpg.connect(platform.settings.admin_dsn("console"))
    try:
        status: str = await conn.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE email = $1", email
        )
        return int(status.split()[-1])
    finally:
        await conn.close()


async def test_the_session_cookie_is_httponly_and_samesite_lax(browser: Browser, console: Console):
    async with logged_in(browser, console, "instructeur") as page:
        cookies = {c["name"]: c for c in await page.context.cookies(console.url)}
        session = cookies["aap_console"]
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Lax"
        assert session["secure"] is False  # served over http here; Secure behind HTTPS
        assert await page.evaluate("document.cookie") == ""  # no script reads it


async def test_an_expired_session_sends_the_person_back_to_the_login_then_to_the_page(
    browser: Browser, console: Console, platform: Platform
):
    async with logged_in(browser, console, "instructeur") as page:
        await page.goto(console.at("/campagnes/tableau?campagne=demo"))
        assert await expire_sessions(platform, "instruction@mildeca.gouv.example.fr") >= 1
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        await page.goto(console.at("/classement?campagne=demo"))
        # Through the provider's authorization endpoint (its own session still runs, so it
        # answers at once, as ProConnect does), then back to the page asked for.
        assert any(url.startswith(ISSUER + AUTHORIZE) for url in asked), asked
        await page.wait_for_url(console.at("/classement?campagne=demo"))
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Classement")


async def test_an_htmx_part_asked_for_by_an_expired_session_sends_the_whole_page_to_the_login(
    browser: Browser, console: Console, platform: Platform
):
    async with logged_in(browser, console, "instructeur") as page:
        shown = console.at("/campagnes/tableau?campagne=demo&page=1")
        await page.goto(shown)
        await expire_sessions(platform, "instruction@mildeca.gouv.example.fr")
        answer = await page.request.get(
            console.at("/campagnes/tableau?campagne=demo&page=2"),
            headers={"HX-Request": "true", "HX-Current-URL": shown},
            max_redirects=0,
        )
        assert answer.status == 204
        assert answer.headers["hx-redirect"] == (
            "/login?next=/campagnes/tableau%3Fcampagne%3Ddemo%26page%3D1"
        )


async def test_logging_out_ends_the_session_at_the_console_and_at_the_provider(
    browser: Browser, console: Console
):
    async with logged_in(browser, console, "presidente") as page:
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        await page.get_by_role("button", name="Se déconnecter").click()
        await page.wait_for_url(lambda url: url.startswith(console.at("/")))
        assert any("/protocol/openid-connect/logout" in url for url in asked), asked
        await expect(page.get_by_text("S'identifier avec")).to_be_visible()
        await page.goto(console.at("/classement"))
        # The provider asks for the password again: its session ended with the console's.
        await expect(page.locator("#password")).to_be_visible()
        assert page.url.startswith(ISSUER)


async def test_a_form_sent_without_its_token_is_refused_and_records_nothing(
    browser: Browser, console: Console
):
    async with logged_in(browser, console, "maire.gard") as page:
        before = await page.request.get(console.at("/dossiers"))
        refused = await page.request.post(
            console.at("/deposer"), form={"campagne": "demo", "csrf": "forged"}
        )
        assert refused.status == 400
        assert "Ce formulaire a expiré" in await refused.text()
        logout = await page.request.post(console.at("/logout"), form={"csrf": "forged"})
        assert logout.status == 400
        after = await page.request.get(console.at("/dossiers"))
        assert after.status == 200  # still logged in: the forged logout did nothing
        assert await after.text() == await before.text()  # and no dossier was filed


async def test_a_person_without_habilitation_sees_only_the_page_that_says_so(
    browser: Browser, console: Console
):
    async with logged_in(browser, console, "sans.habilitation") as page:
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Vous n'avez pas d'habilitation"
        )
        assert await page.locator("nav.fr-nav a").count() == 0
        for path in ("/campagnes", "/dossiers", "/classement", "/controle", "/deposer"):
            answer = await page.request.get(console.at(path))
            assert answer.status == 403, path
            assert "Vous n'avez pas d'habilitation" in await answer.text()


async def test_a_habilitation_revoked_applies_at_once_to_a_running_session(
    browser: Browser, console: Console, platform: Platform
):
    email = "paul.girard@ccomptes.example.fr"  # the demo auditor (deploy/keycloak)
    async with logged_in(browser, console, "auditeur") as page:
        await page.goto(console.at("/controle"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Contrôle d'un dossier")
        conn = await asyncpg.connect(platform.settings.admin_dsn("console"))
        try:
            assert await habilitations.revoke(conn, email)
            await page.goto(console.at("/controle"))
            assert await page.get_by_role("heading", level=1).inner_text() == (
                "Vous n'avez pas d'habilitation"
            )
        finally:
            await habilitations.grant(conn, email, "auditor", None, "Paul Girard")
            await conn.close()
        await page.goto(console.at("/controle"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Contrôle d'un dossier")
