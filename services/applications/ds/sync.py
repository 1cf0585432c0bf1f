"""The import run by applications itself, every `AAP_DS_SYNC_SECONDS`, for each démarche
`AAP_DS_SYNC` names; and the one place an importer is put together (the CLI's too).

A background task of the service, not a job of the durable schedule: a job runs inside its
transaction, and an import holds network calls (pages, files) that must never sit inside one
(the outbox relay would wait on that transaction). One run at a time per démarche, whoever runs
it (an advisory lock): instances of the service and `aap ds import` take turns.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from services.applications.ds.client import DsClient, DsError, DsRefused
from services.applications.ds.importer import Importer, ImportRunning, Progress
from services.applications.ds.mapping_file import MappingFileError, load_mapping
from services.applications.ds.settings import DsSettings
from shared.kernel.blobs import Blobs
from shared.kernel.eventstore import EventStore
from shared.kernel.runtime import Runtime
from shared.language.campaigns import Campaign

log = logging.getLogger(__name__)


@asynccontextmanager
async def importer(
    *,
    pool: asyncpg.Pool,
    store: EventStore,
    blobs: Blobs,
    campaign: Campaign,
    settings: DsSettings,
    clock: Callable[[], datetime],
    dry_run: bool = False,
    progress: Progress | None = None,
) -> AsyncIterator[Importer]:
    """An importer for `campaign`, its DS client connected, its mapping file read."""
    mapping = load_mapping(
        campaign.id, Path(settings.mappings_dir) if settings.mappings_dir else None
    )
    timeout = httpx.Timeout(settings.timeout_seconds)
    async with (
        DsClient(settings, settings.read_token) as ds,
        httpx.AsyncClient(timeout=timeout, follow_redirects=True) as http,
    ):
        yield Importer(
            pool=pool,
            store=store,
            blobs=blobs,
            campaign=campaign,
            mapping=mapping,
            ds=ds,
            http=http,
            clock=clock,
            dry_run=dry_run,
            progress=progress,
        )


async def sync_forever(rt: Runtime) -> None:
    """Each démarche of `AAP_DS_SYNC` imported, then again every `AAP_DS_SYNC_SECONDS`."""
    settings = DsSettings()
    pairs = settings.synced()
    if not pairs:
        return
    log.info("DS sync on: %s every %.0f s", pairs, settings.sync_seconds)
    while True:
        for campaign_id, demarche in pairs:
            await _once(rt, settings, campaign_id, demarche)
        await asyncio.sleep(settings.sync_seconds)


async def _once(rt: Runtime, settings: DsSettings, campaign_id: str, demarche: int) -> None:
    campaign = rt.campaigns.get(campaign_id)
    if campaign is None:
        log.error("AAP_DS_SYNC names campaign %r, which this service does not know", campaign_id)
        return
    try:
        async with importer(
            pool=rt.db(),
            store=rt.store,
            blobs=rt.blobs,
            campaign=campaign,
            settings=settings,
            clock=rt.clock,
        ) as run:
            report = await run.run(demarche)
        log.info("DS sync: %s", report.summary())
    except ImportRunning as busy:
        log.info("DS sync: %s", busy)
    except (DsRefused, MappingFileError) as refused:
        log.error("DS sync of démarche %s stopped: %s", demarche, refused)
    except (DsError, OSError, asyncpg.PostgresError) as error:
        log.warning("DS sync of démarche %s failed, resumed at the next run: %s", demarche, error)
