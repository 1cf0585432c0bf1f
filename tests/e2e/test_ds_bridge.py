"""A démarche on Démarches Simplifiées run through aap, the services as processes: applications'
own sync imports it, selection checks eligibility, the préfecture, the committee and the President
act in aap, and DS is told: instruction started, the decision accepted with its amount. The
applications instance that writes to DS is killed (SIGKILL) after DS applied the acceptance and
before its answer came back: restarted, it reads DS and sends nothing twice."""

import json
import random
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.applications.ds.importer import dossier_id_of
from shared.kernel.settings import Settings
from tests.e2e.conftest import Platform
from tests.e2e.processes import Service, ready, start
from tests.e2e.steps import Journey
from tests.fakes.ds.process import SCHEMA, FakeDs, start_fake
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

DOSSIERS = 4
FIRST = 20240001


@pytest.fixture
def demarche() -> int:
    return random.randrange(200_000, 900_000)  # a démarche of its own in the shared namespace


@pytest.fixture
def fake(demarche: int) -> Iterator[FakeDs]:
    ds = start_fake(DOSSIERS, "--demarche", str(demarche))
    yield ds
    ds.stop()


@pytest.fixture
async def applications_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.settings.admin_dsn("applications"))
    yield conn
    await conn.close()


def bridge_env(fake: FakeDs, demarche: int, platform: Platform) -> dict[str, str]:
    return {
        "AAP_CAMPAIGNS_DIR": str(platform.campaigns_dir),
        "AAP_SMTP_PORT": str(platform.mail.port),
        "AAP_DS_URL": fake.endpoint,
        "AAP_DS_READ_TOKEN": "ds-read-token",
        "AAP_DS_WRITE_TOKEN": "ds-write-token",
        "AAP_DS_SCHEMA_FILE": str(SCHEMA),
        "AAP_DS_REQUESTS_PER_SECOND": "0",
        "AAP_DS_SYNC": f"mildeca-2024={demarche}",
        "AAP_DS_SYNC_SECONDS": "2",
        "AAP_DS_WRITEBACK": "true",
        "AAP_DS_WRITEBACK_POLL_SECONDS": "0.3",
    }


async def filed(conn: asyncpg.Connection, dossier_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT data::text AS data FROM events WHERE stream_id = $1 AND version = 1",
        str(dossier_id),
    )
    return json.loads(row["data"]) if row else None


async def steps(conn: asyncpg.Connection, demarche: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT ds_number, mutation, status, outcome FROM ds_writes "
        "WHERE demarche_number = $1 ORDER BY position",
        demarche,
    )
    return rows


async def settled(conn: asyncpg.Connection, demarche: int) -> bool:
    rows = await steps(conn, demarche)
    return bool(rows) and all(r["status"] in ("done", "dead") for r in rows)


async def test_a_ds_demarche_runs_through_aap_and_its_decision_reaches_ds_once_despite_a_kill(
    platform: Platform,
    settings: Settings,
    fake: FakeDs,
    demarche: int,
    applications_db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    env = bridge_env(fake, demarche, platform)
    bridge: Service = await ready(start(settings, "applications", tmp_path, **env))
    try:
        # the sync imports the démarche; selection checks each dossier
        journeys = []
        for number in range(FIRST, FIRST + DOSSIERS):
            dossier_id = dossier_id_of(demarche, number)

            async def imported(dossier_id: UUID = dossier_id) -> dict[str, Any] | None:
                return await filed(applications_db, dossier_id)

            submitted = await wait_for(imported, timeout=60, what=f"DS {number} imported")
            assert submitted["origin"]["dossier_number"] == number
            journey = Journey(platform, dossier=submitted["dossier"], campaign="mildeca-2024")
            journey.dossier_id, journey.reference = str(dossier_id), submitted["reference"]
            journeys.append((number, journey, await journey.checked()))
        eligible = [(n, j) for n, j, checked in journeys if checked["eligible"]]
        assert eligible, "the fixture démarche holds eligible dossiers"
        number, journey = eligible[0]
        # DS is told instruction started for each eligible dossier
        await wait_for(
            lambda: settled(applications_db, demarche), timeout=60, what="first steps sent"
        )
        for n, _ in eligible:
            assert fake.control("GET", f"dossiers/{n}")["state"] == "en_instruction"
        # the préfecture, the committee and the President act in aap
        requested = journey.dossier["requested_eur"]
        await journey.opinion()
        await journey.assess(requested)
        # DS will apply the acceptance, then hold its answer: the writer is killed meanwhile
        fake.control("POST", "faults", {"hold_skip": 1, "hold_next_mutation": 30})
        await journey.decide("selected", requested)

        async def accepted_on_ds() -> bool:
            return bool(fake.mutations("Accepter", number))

        await wait_for(accepted_on_ds, timeout=60, what="the acceptance applied on DS")
        bridge.process.send_signal(signal.SIGKILL)
        bridge.process.wait()
        [accepter] = [
            r for r in await steps(applications_db, demarche) if r["mutation"] == "Accepter"
        ]
        assert accepter["status"] == "sending"  # applied on DS, its answer never recorded
        # restarted, the writer reads the dossier on DS before sending anything again
        bridge = await ready(start(settings, "applications", tmp_path, port=bridge.port, **env))
        await wait_for(
            lambda: settled(applications_db, demarche), timeout=60, what="the steps settled"
        )
        [accepter] = [
            r for r in await steps(applications_db, demarche) if r["mutation"] == "Accepter"
        ]
        assert accepter["status"] == "done" and "found on DS" in accepter["outcome"]
        assert len(fake.mutations("Accepter", number)) == 1
        on_ds = fake.control("GET", f"dossiers/{number}")
        assert on_ds["state"] == "accepte"
        assert "Montant accordé" in on_ds["motivation"]
        assert len(fake.mutations("PasserEnInstruction", number)) == 2  # at eligibility, and
        # the decision's "ensure instruction", which DS answers "déjà en instruction": done
    finally:
        if bridge.process.poll() is None:
            bridge.terminate()
