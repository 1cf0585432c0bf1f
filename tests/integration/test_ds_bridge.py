"""The Démarches Simplifiées bridge on the real PostgreSQL, against a local DS built from DS's
published schema (tests/fakes/ds, a process of its own): dossiers imported across pages, once;
a change on DS an amendment; unmappable dossiers reported while the others are imported; DS's
429s and dropped connections survived; a run that failed resumed where it stopped; decisions
written back once each, even when the writer dies between the mutation and its record."""

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.applications import main as applications
from services.applications.ds.client import DsClient, DsRefused, DsUnavailable
from services.applications.ds.importer import ImportReport, dossier_id_of
from services.applications.ds.settings import DsSettings
from services.applications.ds.sync import importer
from services.applications.ds.writeback import Writer, mappings_of, record_steps
from shared.contracts.selection import Outcome, SelectionDecided
from shared.kernel import db
from shared.kernel.blobs import PostgresBlobs
from shared.kernel.clock import utc_now
from shared.kernel.eventstore import read_stream
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings
from shared.language.campaigns import load_campaigns
from tests.conftest import settings_env
from tests.fakes.ds.process import SCHEMA, FakeDs, start_fake

DEMARCHE = 104857
CAMPAIGN = load_campaigns()["mildeca-2024"]
REQUESTED = "Q2hhbXAtNDEwMDAyNw=="  # "Subvention sollicitée (€)"
TITLE = "Q2hhbXAtNDEwMDAxMA=="  # "Intitulé du projet"


@pytest.fixture
def fake() -> Iterator[FakeDs]:
    ds = start_fake(250)
    yield ds
    ds.stop()


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    name = f"ds_{uuid4().hex[:8]}"
    await db.provision(settings, name, applications.spec().schema_sql)
    opened = await db.open_pool(settings, name, size=8)
    yield opened
    await opened.close()
    await db.drop_database(settings, name)


def ds_settings(fake: FakeDs, **overrides: Any) -> DsSettings:
    chosen: dict[str, Any] = {
        "url": fake.endpoint,
        "read_token": "ds-read-token",
        "write_token": "ds-write-token",
        "schema_file": str(SCHEMA),
        "requests_per_second": 0,
    }
    return DsSettings(**(chosen | overrides))


async def import_once(
    pool: asyncpg.Pool, settings: Settings, fake: FakeDs, **overrides: Any
) -> ImportReport:
    progress = overrides.pop("progress", None)
    async with importer(
        pool=pool,
        store=Runtime(applications.spec(), settings).store,
        blobs=PostgresBlobs(),
        campaign=CAMPAIGN,
        settings=ds_settings(fake, **overrides),
        clock=utc_now,
        progress=progress,
    ) as run:
        return await run.run(DEMARCHE)


async def events_of(pool: asyncpg.Pool, dossier_id: UUID) -> list[str]:
    async with pool.acquire() as conn:
        return [e.event_type.split(".")[-2] for e in await read_stream(conn, str(dossier_id))]


async def count(pool: asyncpg.Pool, event: str) -> int:
    total: int = await pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type LIKE $1", f"%.{event}.%"
    )
    return total


# --- import -------------------------------------------------------------------------------------


async def test_every_dossier_is_imported_once_across_pages_and_a_rerun_imports_nothing_new(
    settings, pool, fake
):
    report = await import_once(pool, settings, fake)
    assert (report.pages, report.imported, report.refused) == (3, 250, {})
    assert await count(pool, "ApplicationSubmitted") == 250
    row = await pool.fetchrow(
        "SELECT data::text AS payload FROM events WHERE event_type LIKE '%Submitted%'"
    )
    origin = json.loads(row["payload"])["origin"]
    assert origin["platform"] == "demarches-simplifiees" and origin["demarche_number"] == DEMARCHE
    # its files are attachments, their bytes kept by SHA-256
    assert await count(pool, "AttachmentAdded") >= 750
    assert await pool.fetchval("SELECT count(*) FROM blobs") >= 750
    # a rerun reads only what changed since the last change seen: nothing new
    again = await import_once(pool, settings, fake)
    assert (again.imported, again.amended) == (0, 0)
    assert await count(pool, "ApplicationSubmitted") == 250


async def test_the_deadline_is_tested_at_the_filing_on_ds_not_at_the_import(settings, pool, fake):
    await import_once(pool, settings, fake)
    dossier = fake.control("GET", "dossiers/20240001")
    row = await pool.fetchrow(
        "SELECT data::text AS payload FROM events "
        "WHERE stream_id = $1 AND event_type LIKE '%Submitted%'",
        str(dossier_id_of(DEMARCHE, 20240001)),
    )
    submitted_at = datetime.fromisoformat(json.loads(row["payload"])["submitted_at"])
    assert submitted_at == datetime.fromisoformat(dossier["dateDepot"])
    assert submitted_at < CAMPAIGN.deadline < datetime.now(UTC)


async def test_a_dossier_changed_on_ds_becomes_an_amendment_of_the_same_dossier(
    settings, pool, fake
):
    await import_once(pool, settings, fake)
    fake.control("POST", "dossiers/20240007/champs", {REQUESTED: "1000.00"})
    report = await import_once(pool, settings, fake)
    assert (report.imported, report.amended) == (0, 1)
    events = await events_of(pool, dossier_id_of(DEMARCHE, 20240007))
    assert events.count("ApplicationSubmitted") == 1 and events.count("ApplicationAmended") == 1
    amended = await pool.fetchval(
        "SELECT data::text AS payload FROM events WHERE event_type LIKE '%ApplicationAmended%'"
    )
    changes = json.loads(amended)["changes"]
    assert [(c["field"], c["after"]) for c in changes] == [("requested_eur", "1000.00")]


async def test_unmappable_dossiers_are_reported_by_number_and_champ_and_nothing_of_them_is_stored(
    settings, pool, fake
):
    fake.control("POST", "dossiers/20240011/champs", {REQUESTED: "1200.505"})
    fake.control("POST", "dossiers/20240012/champs", {TITLE: ""})
    report = await import_once(pool, settings, fake)
    assert report.imported == 248
    assert sorted(report.refused) == [20240011, 20240012]
    [cents] = report.refused[20240011]
    assert "Subvention sollicitée" in cents and "amount_cents" in cents
    assert "champ_missing" in " ".join(report.refused[20240012])
    for number in (20240011, 20240012):
        assert await events_of(pool, dossier_id_of(DEMARCHE, number)) == []
    listed = await pool.fetch("SELECT ds_number FROM ds_import_errors ORDER BY ds_number")
    assert [r["ds_number"] for r in listed] == [20240011, 20240012]
    # once corrected on DS, the next run imports it and forgets the report
    fake.control("POST", "dossiers/20240011/champs", {REQUESTED: "1200.50"})
    later = await import_once(pool, settings, fake)
    assert later.imported == 1
    assert await pool.fetchval("SELECT count(*) FROM ds_import_errors") == 1


async def test_a_429_a_500_and_a_dropped_connection_are_survived(settings, pool, fake):
    fake.control("POST", "faults", {"rate_limit_every": 2, "drop_next": 1, "error_next": 1})
    report = await import_once(pool, settings, fake)
    assert report.imported == 250
    stats = fake.control("GET", "stats")
    assert stats["rate_limited"] >= 1 and stats["dropped"] == 1 and stats["errors_500"] == 1


async def test_a_run_that_failed_resumes_after_the_last_page_it_finished(settings, pool, fake):
    def fail_after_the_first_page(report: ImportReport) -> None:
        if report.pages == 1:
            fake.control("POST", "faults", {"error_next": 20})

    with pytest.raises(DsUnavailable):
        await import_once(pool, settings, fake, attempts=2, progress=fail_after_the_first_page)
    assert await count(pool, "ApplicationSubmitted") == 100
    fake.control("POST", "faults", {"error_next": 0})
    resumed = await import_once(pool, settings, fake)
    assert resumed.resumed_after is not None
    assert (resumed.pages, resumed.imported) == (2, 150)
    assert await count(pool, "ApplicationSubmitted") == 250


async def test_a_dossier_deleted_on_ds_before_the_decision_is_withdrawn(settings, pool, fake):
    await import_once(pool, settings, fake)
    fake.control("POST", "dossiers/20240020/delete", {"reason": "user_request"})
    report = await import_once(pool, settings, fake)
    assert report.withdrawn == 1
    assert (await events_of(pool, dossier_id_of(DEMARCHE, 20240020)))[-1] == "ApplicationWithdrawn"


async def test_a_page_ds_gives_up_on_is_asked_again_in_halves(settings, pool, fake):
    fake.control("POST", "faults", {"timeout_next": 1})
    report = await import_once(pool, settings, fake)
    assert (report.pages, report.imported) == (5, 250)  # pages of 50 after DS's timeout
    assert fake.control("GET", "stats")["timeouts"] == 1


async def test_a_token_ds_refuses_stops_the_import_with_the_reason_and_stores_nothing(
    settings, pool, fake
):
    with pytest.raises(DsRefused, match="refused the token"):
        await import_once(pool, settings, fake, read_token="not-a-token")
    assert await count(pool, "ApplicationSubmitted") == 0
    # the run is said failed where the operator looks (`aap ds errors`)
    assert "DsRefused" in await pool.fetchval("SELECT last_error FROM ds_sync")


def test_the_cli_says_in_one_line_that_ds_refused_the_token(settings, fake):
    env = {
        **os.environ,
        **settings_env(settings),
        "AAP_DS_URL": fake.endpoint,
        "AAP_DS_READ_TOKEN": "not-a-token",
        "AAP_DS_SCHEMA_FILE": str(SCHEMA),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli", "ds", "import", "--demarche", str(DEMARCHE),
         "--campaign", "mildeca-2024"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "DsRefused" in done.stderr and "Traceback" not in done.stderr + done.stdout


# --- write-back ---------------------------------------------------------------------------------


class Killed(Exception):
    """The writer's process died here."""


class DiesAfterSending(DsClient):
    """A DS client whose process dies just after DS applied the mutation, before its record."""

    async def mutate(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        await super().mutate(name, variables)
        raise Killed(name)


def decided(number: int, outcome: Outcome) -> SelectionDecided:
    return SelectionDecided(
        dossier_id=dossier_id_of(DEMARCHE, number),
        reference=f"AAP-2024-{number % 1000:05d}",
        campaign_id=CAMPAIGN.id,
        siren="217500016",
        departement="59",
        outcome=outcome,
        requested_eur=Decimal("100000.00"),
        granted_eur=Decimal("80000.00") if outcome is Outcome.selected else Decimal("0.00"),
        motivation="Projet partenarial solide.",
        decided_at=utc_now(),
    )


async def write_all(pool: asyncpg.Pool, ds: DsClient, settings: DsSettings) -> None:
    writer = Writer(pool, ds, mappings_of(settings), utc_now)
    for _ in range(20):
        if not await writer.send_due():
            return
    raise AssertionError("steps were still due after 20 rounds")


async def test_each_decision_is_written_back_once_even_when_the_writer_dies_after_sending(
    settings, pool, fake
):
    await import_once(pool, settings, fake)
    chosen = {20240001: Outcome.selected, 20240002: Outcome.rejected, 20240003: Outcome.selected}
    async with pool.acquire() as conn, conn.transaction():
        for number, outcome in chosen.items():
            await record_steps(conn, decided(number, outcome), uuid4(), lambda _: None, utc_now())
    writing = ds_settings(fake)
    # the first writer dies right after each of its first mutations reached DS
    async with DiesAfterSending(writing, writing.write_token) as dying:
        for _ in range(3):
            with pytest.raises(Killed):
                await Writer(pool, dying, mappings_of(writing), utc_now).send_due()
    # DS applies the next mutation but its answer never comes back (the connection drops)
    fake.control("POST", "faults", {"drop_after_next": 1})
    async with DsClient(writing, writing.write_token) as ds:
        await write_all(pool, ds, writing)
    states = {n: fake.control("GET", f"dossiers/{n}")["state"] for n in chosen}
    assert states == {20240001: "accepte", 20240002: "refuse", 20240003: "accepte"}
    # every mutation DS received, accepted or not: one of each per dossier, none sent twice
    received = {
        name: sorted(m["dossier"] for m in fake.mutations(name))
        for name in ("PasserEnInstruction", "Accepter", "Refuser")
    }
    assert received == {
        "PasserEnInstruction": [20240001, 20240002, 20240003],
        "Accepter": [20240001, 20240003],
        "Refuser": [20240002],
    }
    statuses = await pool.fetch("SELECT DISTINCT status FROM ds_writes")
    assert [r["status"] for r in statuses] == ["done"]


async def test_a_step_ds_refuses_for_good_is_dead_and_the_others_carry_on(settings, pool, fake):
    await import_once(pool, settings, fake)
    fake.control("POST", "dossiers/20240005/state", {"state": "refuse"})  # decided on DS
    async with pool.acquire() as conn, conn.transaction():
        for number in (20240004, 20240005):
            event = decided(number, Outcome.selected)
            await record_steps(conn, event, uuid4(), lambda _: None, utc_now())
    writing = ds_settings(fake)
    async with DsClient(writing, writing.write_token) as ds:
        await write_all(pool, ds, writing)
    rows = await pool.fetch("SELECT ds_number, mutation, status FROM ds_writes ORDER BY position")
    outcome = {(r["ds_number"], r["mutation"]): r["status"] for r in rows}
    assert outcome[(20240004, "Accepter")] == "done"
    assert outcome[(20240005, "Accepter")] == "dead"
