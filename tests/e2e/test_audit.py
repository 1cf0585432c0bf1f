"""The auditor, on the running platform: a dossier's whole life replayed across the four
services, the state as of an instant captured mid-way, and a bundle checked offline."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from shared.language.actors import Role
from tests.conftest import settings_env
from tests.e2e.conftest import SERVICES, Platform
from tests.e2e.steps import Journey
from tests.helpers import wait_for

MAILS = (
    "acknowledgement",
    "eligible",
    "opinion_requested",
    "opinion_given",
    "decision_selected",
    "signature_added",
    "signature_added",
    "signature_added",
    "convention_signed",
    "funds_committed",
    "instalment_paid",
    "activity_report_submitted",
    "instalment_paid",
    "opinion_on_balance_requested",
    "departmental_opinion_given",
    "balance_released",
)


async def audited(j: Journey, as_of: str = "") -> dict[str, Any]:
    path = f"/audit/dossiers/{j.dossier_id}" + (f"?as_of={quote(as_of)}" if as_of else "")
    response = await j.call("notifications", "GET", path, Role.auditor)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(j: Journey) -> list[tuple[str, int, str]]:
    """(service, version, event id) of every event of the dossier in the four event stores."""
    found = []
    for service in SERVICES:
        conn = await asyncpg.connect(j.platform.settings.admin_dsn(service))
        try:
            rows = await conn.fetch(
                "SELECT version, event_id FROM events WHERE stream_id = $1", j.dossier_id
            )
        finally:
            await conn.close()
        found += [(service, r["version"], str(r["event_id"])) for r in rows]
    return sorted(found)


async def trail_holds(j: Journey, condition: Any, what: str) -> dict[str, Any]:
    async def holds() -> dict[str, Any] | None:
        body = await audited(j)
        return body if condition(body) else None

    return await wait_for(holds, timeout=60, what=f"{what} of {j.reference} in the audit trail")


def types(body: dict[str, Any]) -> list[str]:
    return [e["type"] for e in body["events"]]


def one(body: dict[str, Any], type_: str) -> dict[str, Any]:
    [event] = [e for e in body["events"] if e["type"] == type_]
    return event


async def aap(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(platform.settings), "COLUMNS": "200"}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_auditor_replays_a_whole_life_and_sees_it_as_the_president_did(
    platform: Platform, tmp_path: Path
):
    j = await Journey(platform).file()
    assert (await j.checked())["eligible"] is True
    await j.opinion()
    await j.assess("120000.00")
    await j.decide("selected", "120000.00")
    # What the President saw, right after deciding; the instant is remembered.
    then = await trail_holds(j, lambda b: "SelectionDecided" in types(b), "the decision")
    await j.sign_by_all()
    await j.committed()
    await j.command("payments", "/instalments", Role.instructor)
    await j.activity_report()
    await j.command("payments", "/instalments", Role.instructor)
    await j.report(justified="118000.00")
    await j.departmental_opinion("favorable")
    await j.command("payments", "/balance", Role.instructor)
    await j.mails(*MAILS)

    everything = await stored(j)
    body = await trail_holds(
        j,
        lambda b: (
            sorted((e["service"], e["version"], e["event_id"]) for e in b["events"]) == everything
        ),
        "every event",
    )

    # Every event of the four services, in time order, with who acted and what caused it.
    assert {e["service"] for e in body["events"]} == set(SERVICES)
    times = [datetime.fromisoformat(e["occurred_at"]) for e in body["events"]]
    assert times == sorted(times)
    assert types(body)[0] == "ApplicationSubmitted"
    assert one(body, "ApplicationSubmitted")["actor"].startswith(f"applicant:{j.siren}:")
    assert one(body, "PrefectureOpinionGiven")["actor"].startswith(f"prefecture:{j.departement}:")
    assert one(body, "SelectionDecided")["actor"].startswith("president:")
    assert (
        one(body, "EligibilityChecked")["causation_id"]
        == one(body, "ApplicationSubmitted")["event_id"]
    )
    assert one(body, "FundsCommitted")["causation_id"] == one(body, "ConventionSigned")["event_id"]
    assert one(body, "FundsCommitted")["actor"] == "system:commitments"
    assert {e["actor"] for e in body["events"] if e["type"] == "NotificationSent"} == {
        "system:mailer"
    }
    assert (body["published_trail"]["verified"], body["published_trail"]["breaks"]) == (True, [])
    assert body["state"]["payments"]["balance"]["outcome"] == "released"

    # Time travel: the state as of the remembered instant is what was seen then.
    back = await audited(j, then["as_of"])
    assert back["state"] == then["state"]
    assert back["state"]["decision"]["granted_eur"] == "120000.00"
    assert back["state"]["signatures"] == [] and back["state"]["payments"]["committed_eur"] is None
    assert back["state"]["envelope_remaining_eur"] is not None
    assert "ConventionSignatureAdded" not in types(back)

    # The CLI rebuilds the same from the event stores themselves.
    shown = await aap(platform, "show", j.dossier_id, "--as-of", then["as_of"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == then["state"]
    table = await aap(platform, "show", j.dossier_id)
    assert table.returncode == 0, table.stderr
    assert "BalanceReleased" in table.stdout and "chains verified" in table.stdout

    # Nobody but an auditor replays a dossier.
    for role in (Role.instructor, Role.president, Role.applicant, Role.prefecture):
        response = await j.call("notifications", "GET", f"/audit/dossiers/{j.dossier_id}", role)
        assert response.status_code == 403, (role, response.text)
        assert "auditor" in response.json()["detail"]

    # A bundle, exported from the event stores, verifies offline; one changed byte breaks it.
    bundle = tmp_path / "dossier.json"
    exported = await aap(platform, "export", j.dossier_id, "-o", str(bundle))
    assert exported.returncode == 0, exported.stderr
    assert [e["event_id"] for e in json.loads(bundle.read_text())["events"]] == [
        e["event_id"] for e in body["events"]
    ]
    checked = await aap(platform, "check", str(bundle))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = bundle.read_text()
    motivation = "Au vu de l'avis"  # the President's motivation, in the decision only
    assert text.count(motivation) == 1
    bundle.write_text(text.replace(motivation, "Au vu de l'avIs"))
    broken = await aap(platform, "check", str(bundle))
    assert broken.returncode == 1
    decided = one(body, "SelectionDecided")
    assert f"changed selection stream {j.dossier_id} at version {decided['version']}" in " ".join(
        broken.stderr.split()
    )


@pytest.mark.parametrize("args", [["verify", "--service", "selection"], ["verify"]])
async def test_every_chain_of_the_running_platform_holds(platform: Platform, args: list[str]):
    await Journey(platform).file()
    verified = await aap(platform, *args)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "every chain holds" in verified.stdout
