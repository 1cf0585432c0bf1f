"""Wiring of the Démarches Simplifiées bridge for the CLI (`aap ds`): the only module of the
bridge it reaches. Each function opens what it needs on applications' database and closes it."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.applications.ds import mapping_check, mapping_file, writeback
from services.applications.ds.client import DsClient, DsError
from services.applications.ds.importer import ImportReport, ImportRunning, reported
from services.applications.ds.mapping_file import MappingFileError
from services.applications.ds.settings import DsSettings
from services.applications.ds.sync import importer
from services.applications.main import NAME, spec
from shared.kernel import db
from shared.kernel.blobs import PostgresBlobs
from shared.kernel.clock import utc_now
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings
from shared.language.campaigns import Campaigns, find

__all__ = ["DsError", "ImportReport", "ImportRunning", "MappingFileError"]


@asynccontextmanager
async def _pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    if settings.provision_on_start:
        await db.provision(settings, NAME, spec().schema_sql)
    pool = await db.open_pool(settings, NAME)
    try:
        yield pool
    finally:
        await pool.close()


async def run_import(
    settings: Settings,
    demarche: int,
    campaign_id: str,
    since: datetime | None,
    *,
    dry_run: bool,
    progress: Callable[[ImportReport], None],
) -> ImportReport:
    campaign = find(Campaigns(settings.campaigns_dir), campaign_id)
    async with (
        _pool(settings) as pool,
        db.opened_vault(settings) as vault,
        importer(
            pool=pool,
            store=Runtime(spec(), settings).store.sealing_with(vault),
            blobs=PostgresBlobs(),
            campaign=campaign,
            settings=DsSettings(),
            clock=utc_now,
            dry_run=dry_run,
            progress=progress,
        ) as run,
    ):
        return await run.run(demarche, since)


async def import_errors(
    settings: Settings, demarche: int
) -> tuple[asyncpg.Record | None, list[asyncpg.Record]]:
    """Where the démarche's import stands (its last run, its error) and the dossiers refused."""
    async with _pool(settings) as pool:
        standing = await pool.fetchrow(
            "SELECT started_at, finished_at, last_error, cursor IS NOT NULL AS unfinished "
            "FROM ds_sync WHERE demarche_number = $1",
            demarche,
        )
        return standing, await reported(pool, demarche)


async def describe(demarche: int) -> dict[str, Any]:
    """The démarche's form, groups and instructeurs, as DS describes them."""
    settings = DsSettings()
    async with DsClient(settings, settings.read_token) as ds:
        return await ds.query("DescribeDemarche", {"demarche": demarche})


async def check(campaign_id: str, demarche: int) -> tuple[list[str], list[str]]:
    """The campaign's mapping file against the live démarche: (errors, warnings)."""
    settings = DsSettings()
    folder = Path(settings.mappings_dir) if settings.mappings_dir else None
    chosen = mapping_file.load_mapping(campaign_id, folder)
    revision = ((await describe(demarche)).get("demarche") or {}).get("activeRevision") or {}
    return mapping_check.check_mapping(
        chosen, revision.get("champDescriptors") or [], revision.get("annotationDescriptors") or []
    )


async def writes(settings: Settings, *, dead_only: bool) -> list[asyncpg.Record]:
    async with _pool(settings) as pool:
        return await writeback.writes(pool, dead_only=dead_only)


async def retry_write(settings: Settings, position: int) -> bool:
    async with _pool(settings) as pool:
        return await writeback.retry(pool, position, utc_now())
