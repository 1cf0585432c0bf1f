"""`aap demo` as a newcomer runs it, against the running services: it always runs to the end,
the campaign's envelope spent or not, and says what it did about it."""

import asyncio
import os
import subprocess
import sys

from tests.conftest import settings_env
from tests.e2e.conftest import Platform


def demo(platform: Platform, campaign: str) -> subprocess.CompletedProcess[str]:
    urls = [f"--{name}-url={url}" for name, url in platform.urls.items()]
    env = {
        **os.environ,
        **settings_env(platform.settings),
        "COLUMNS": "200",
        "AAP_CAMPAIGNS_DIR": str(platform.campaigns_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--campaign", campaign, "--timeout", "60", *urls],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_the_demo_runs_to_the_balance_again_and_again_once_its_envelope_is_spent(
    platform: Platform,
):
    # given a campaign whose envelope holds one demo's grant and a little more
    first = await asyncio.to_thread(demo, platform, "tiny")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    # when less than a demo's grant is left, the demo grants what remains, and says so
    second = await asyncio.to_thread(demo, platform, "tiny")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert "grants what remains, 10000.00 EUR" in second.stdout
    # and once nothing is left, it files in a campaign of its own, and says so
    third = await asyncio.to_thread(demo, platform, "tiny")
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr
    assert "a campaign of its own" in third.stdout
    assert "went through every step" in third.stdout
    assert len(list(platform.campaigns_dir.glob("demo-*.json"))) == 1
