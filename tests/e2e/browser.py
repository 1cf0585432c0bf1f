"""A real browser for the tests: Debian's Chromium driven by Playwright, with no network beyond
loopback. Import the fixtures where they are used (`from tests.e2e.browser import browser`)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Route, async_playwright, expect

# deploy/local/tools.sh installs it; Playwright's own browser download is never used.
CHROMIUM = Path("/usr/bin/chromium")
# Nothing of Chromium's own calls home: these machines, and closed networks, refuse them.
FLAGS = [
    "--no-sandbox",  # the tests run as root here
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="session")
def chromium_binary() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed ({CHROMIUM}): run deploy/local/tools.sh")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium_binary: Path) -> AsyncIterator[Browser]:
    """One Chromium for the session (Playwright gives it a fresh profile). Assertions wait up to
    15 s for what they expect: two cores shared by the services, the broker, the database and
    the provider are sometimes slower than Playwright's 5 s."""
    expect.set_options(timeout=15_000)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_binary, headless=True, args=FLAGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class Offline:
    """A browser context whose every request beyond loopback is refused, and remembered."""

    context: BrowserContext
    refused: list[str] = field(default_factory=list)

    async def _only_loopback(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            await route.continue_()
        else:
            self.refused.append(url)
            await route.abort("internetdisconnected")


@pytest.fixture
async def offline(browser: Browser) -> AsyncIterator[Offline]:
    context = await browser.new_context()
    offline = Offline(context)
    await context.route("**/*", offline._only_loopback)
    try:
        yield offline
    finally:
        await context.close()
