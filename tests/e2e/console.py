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

from tests.conftest import settings_env
from tests.e2e.conftest import Platform
from tests.helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
ISSUER = os.environ.get("AAP_OIDC_ISSUER", "http://127.0.0.1:28080/realms/aap")
PASSWORD = "demo"  # every demo person's (deploy/keycloak/README.md)
HABILITATIONS = ROOT / "deploy" / "keycloak" / "habilitations-demo.json"


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
