"""Each service's API documentation (/docs), read in Chromium as on a closed network: no request
may leave loopback, and the page shows every route of the service."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import TimeoutError as PlaywrightTimeout

from shared.kernel.docs import install_docs
from shared.kernel.settings import Settings
from tests.e2e.browser import Offline, browser, chromium_binary, offline  # noqa: F401 (fixtures)
from tests.e2e.conftest import Platform

SHOWN_WITHIN_MS = 15_000


@pytest.mark.parametrize(
    ("service", "route"),
    [
        ("applications", "/campaigns/{campaign_id}/dossiers"),
        ("selection", "/dossiers/{dossier_id}/decision"),
        ("payments", "/dossiers/{dossier_id}/instalments"),
        ("notifications", "/dossiers/{dossier_id}/notifications"),
    ],
)
async def test_the_api_documentation_shows_its_routes_with_no_network_beyond_loopback(
    platform: Platform, offline: Offline, service: str, route: str
):
    async with httpx.AsyncClient() as client:
        document = (await client.get(platform.url(service, "/openapi.json"))).json()
    page = await offline.context.new_page()

    answer = await page.goto(platform.url(service, "/docs"))
    operations = page.locator(".opblock-summary-path")
    try:
        await operations.first.wait_for(timeout=SHOWN_WITHIN_MS)
    except PlaywrightTimeout:
        pass  # the assertions below say what the page showed instead

    assert answer is not None and answer.status == 200, answer and await answer.text()
    # Swagger UI breaks long paths with zero-width spaces before each slash
    shown = {text.replace("\u200b", "") for text in await operations.all_inner_texts()}
    body = (await page.inner_text("body")).strip()
    assert route in shown, (
        f"{service}'s /docs does not show {route}: its page reads {body!r:.300}, "
        f"having asked for {offline.refused}"
    )
    assert not offline.refused, f"/docs asked for hosts beyond loopback: {offline.refused}"
    assert shown == set(document["paths"])
    assert await page.get_by_text(f"aap {service}", exact=False).count() > 0


async def test_without_its_files_the_documentation_says_how_to_install_them(tmp_path: Path):
    app = FastAPI(title="aap applications", docs_url=None, redoc_url=None)
    install_docs(app, Settings(assets_dir=str(tmp_path / "nothing-here")))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://aap") as client:
        answer = await client.get("/docs")
    assert answer.status_code == 503
    assert "deploy/local/assets.sh" in answer.text and "AAP_ASSETS_DIR" in answer.text
    assert "cdn" not in answer.text.lower() and "https://" not in answer.text
