"""A démarche's dossiers on Démarches Simplifiées, imported into aap and kept in step.

Pages of at most 100 dossiers, in DS's order of last change (`updatedSince`, inclusive), the
page's cursor committed after its dossiers: a rerun resumes after the last page done, and the
next run reads only what changed since the greatest change seen (DS's clock, not ours).

Per DS dossier, nothing over the network inside a transaction, one short transaction each:
- mapped by the campaign's mapping file (services/applications/ds/mapping.py); a dossier that
  cannot be is reported with every reason, by DS number and champ, and nothing of it is stored;
- its files fetched and checked (services/applications/ds/files.py);
- unknown: filed in aap (`ApplicationSubmitted` with its origin, the deadline tested at its
  filing on DS), its files attached, its link to DS kept, in one transaction;
- known and unchanged: nothing; changed: an amendment of the same dossier, never a second one.
Dossiers deleted on DS before aap's decision are withdrawn.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import asyncpg
import httpx

from services.applications import decisions, numbering
from services.applications.commands import (
    AmendOnPlatform,
    Command,
    ImportDossier,
    WithdrawOnPlatform,
)
from services.applications.domain import DOSSIER, reference_for
from services.applications.ds.client import DsClient, DsNotFound, DsTimeout
from services.applications.ds.files import DS_NAMESPACE, FetchedFile, FileProblem, fetch, file_id
from services.applications.ds.mapping import Mapped, Unmappable, map_dossier
from services.applications.ds.mapping_file import DsMapping
from services.applications.ds.steps import WITHDRAWN_ON_DS
from shared.contracts import DomainEvent
from shared.contracts.applications import Origin, Platform
from shared.kernel import db
from shared.kernel.aggregate import Prepared, Then, execute
from shared.kernel.blobs import Blobs
from shared.kernel.eventstore import EventStore
from shared.language.campaigns import Campaign
from shared.language.errors import DomainError, Invalid

log = logging.getLogger(__name__)

PAGE = 100  # DS's largest page
SMALLEST_PAGE = 10  # halved down to this when DS gives up on a page (its 30 s limit)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What DS may fill in by itself: the company registry was away when the dossier was filed.
PASSING_PROBLEMS = frozenset({"demandeur_incomplete"})
DELETIONS_OVERLAP = timedelta(hours=1)  # deletions are read again a little before the last run


class ImportRunning(Exception):
    """Another import of the same démarche runs (the CLI, or a service's sync)."""


@dataclass
class ImportReport:
    """What a run did, dossier by dossier; `refused` lists every reason, by DS number."""

    demarche: int
    campaign_id: str
    dry_run: bool = False
    pages: int = 0
    seen: int = 0
    imported: int = 0
    amended: int = 0
    unchanged: int = 0
    skipped: int = 0  # in a state the mapping does not import (decided on DS)
    withdrawn: int = 0
    refused: dict[int, list[str]] = field(default_factory=dict)
    resumed_after: str | None = None

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (
            f"démarche {self.demarche} → {self.campaign_id}: {self.seen} dossier(s) read in "
            f"{self.pages} page(s); {verb} {self.imported}, amended {self.amended}, unchanged "
            f"{self.unchanged}, not imported (decided on DS) {self.skipped}, withdrawn "
            f"{self.withdrawn}, refused {len(self.refused)}"
        )


Progress = Callable[[ImportReport], None]


def dossier_id_of(demarche: int, ds_number: int) -> UUID:
    """A DS dossier's aap id, the same at every run: a rerun lands on the same stream."""
    return uuid5(DS_NAMESPACE, f"demarche/{demarche}/dossier/{ds_number}")


@dataclass
class Importer:
    pool: asyncpg.Pool
    store: EventStore
    blobs: Blobs
    campaign: Campaign
    mapping: DsMapping
    ds: DsClient
    http: httpx.AsyncClient  # for the files' signed URLs (never sent the DS token)
    clock: Callable[[], datetime]
    concurrency: int = 4
    dry_run: bool = False
    progress: Progress | None = None

    async def run(self, demarche: int, since: datetime | None = None) -> ImportReport:
        """Read the démarche's dossiers changed since `since` (else since the last run), or
        resume the run a failure stopped, and import each."""
        report = ImportReport(demarche, self.campaign.id, dry_run=self.dry_run)
        async with db.session(self.pool) as lock:
            got = await lock.fetchval(_TRY_LOCK, demarche)
            if not got:
                raise ImportRunning(
                    f"an import of démarche {demarche} is running (another `aap ds import` or "
                    "a service's sync); try again when it ends"
                )
            try:
                await self._run(demarche, since, report)
            except BaseException as error:
                if not self.dry_run:
                    await self.pool.execute(_FAILED, demarche, f"{type(error).__name__}: {error}")
                raise
            finally:
                await lock.execute(_UNLOCK, demarche)
        return report

    async def _run(self, demarche: int, since: datetime | None, report: ImportReport) -> None:
        row = await self.pool.fetchrow(_SYNC, demarche)
        cursor: str | None = None
        seen_until: datetime | None = None
        if row is not None and row["cursor"] and since is None:
            run_since, cursor, seen_until = row["run_since"], row["cursor"], row["seen_until"]
            report.resumed_after = cursor
        else:
            run_since = since or (row["updated_since"] if row is not None else None) or EPOCH
        started = self.clock()
        if not self.dry_run:
            await self.pool.execute(
                _STARTED, demarche, self.campaign.id, run_since, cursor, seen_until, started
            )
            await self._retry_reported(demarche, report)
        first = PAGE
        while True:
            variables = {
                "demarche": demarche,
                "first": first,
                "after": cursor,
                "updatedSince": run_since.isoformat(),
            }
            try:
                data = await self.ds.query("DemarcheDossiers", variables)
            except DsTimeout:
                if first <= SMALLEST_PAGE:
                    raise
                first = max(SMALLEST_PAGE, first // 2)
                log.warning("DS gave up on a page of %d; asking for %d", first * 2, first)
                continue
            connection = _connection(data, demarche)
            nodes: list[dict[str, Any]] = connection["nodes"]
            await self._each(demarche, nodes, report)
            for node in nodes:
                changed = _instant(node["dateDerniereModification"])
                seen_until = changed if seen_until is None else max(seen_until, changed)
            page = connection["pageInfo"]
            cursor = page["endCursor"] or cursor
            report.pages += 1
            if not self.dry_run:
                await self.pool.execute(_PAGE_DONE, demarche, cursor, seen_until)
            if self.progress is not None:
                self.progress(report)
            if not page["hasNextPage"]:
                break
        if not self.dry_run:
            await self._deletions(demarche, row["deleted_since"] if row else None, report)
            await self.pool.execute(
                _FINISHED,
                demarche,
                seen_until or run_since,
                started - DELETIONS_OVERLAP,
                self.clock(),
            )

    async def _each(
        self, demarche: int, nodes: Sequence[dict[str, Any]], report: ImportReport
    ) -> None:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(node: dict[str, Any]) -> None:
            async with limit:
                await self._dossier(demarche, node, report)

        await asyncio.gather(*(one(node) for node in nodes))

    async def _retry_reported(self, demarche: int, report: ImportReport) -> None:
        """The dossiers refused last time for a reason that may have passed, read again."""
        for number in await self.pool.fetch(_TRANSIENT, demarche):
            try:
                data = await self.ds.query("OneDossier", {"number": number["ds_number"]})
            except DsNotFound:
                await self.pool.execute(_FORGET_ERRORS, demarche, number["ds_number"])
                continue
            if data.get("dossier"):
                await self._dossier(demarche, data["dossier"], report)

    # --- one dossier ------------------------------------------------------------------------

    async def _dossier(self, demarche: int, node: dict[str, Any], report: ImportReport) -> None:
        report.seen += 1
        number = int(node["number"])
        try:
            mapped = map_dossier(node, self.mapping)
        except Unmappable as unmappable:
            reasons = [str(p) for p in unmappable.problems]
            passing = all(p.kind in PASSING_PROBLEMS for p in unmappable.problems)
            await self._refused(demarche, node, reasons, passing, report)
            return
        known = await self.pool.fetchrow(_KNOWN, demarche, number)
        if known is None and mapped.state not in self.mapping.import_states:
            report.skipped += 1
            return
        if known is not None and known["digest"] == mapped.digest:
            report.unchanged += 1
            if not self.dry_run and known["ds_state"] != mapped.state:
                await self.pool.execute(_STATE, demarche, number, mapped.state, self.clock())
            return
        kept = set(json.loads(known["files"])) if known is not None else set()
        dossier_id = dossier_id_of(demarche, number)
        fetched = await self._files(mapped, kept)
        problems = [p for p in fetched if isinstance(p, FileProblem)]
        if problems:
            reasons = [_file_reason(number, p) for p in problems]
            await self._refused(demarche, node, reasons, all(p.transient for p in problems), report)
            return
        files = [f for f in fetched if isinstance(f, FetchedFile)]
        if self.dry_run:
            report.imported += known is None
            report.amended += known is not None
            return
        try:
            if known is None:
                await self._import(demarche, dossier_id, mapped, files)
                report.imported += 1
            else:
                await self._amend(demarche, dossier_id, mapped, files)
                report.amended += 1
        except DomainError as refusal:
            await self._refused(demarche, node, [f"{number} · {_said(refusal)}"], False, report)

    async def _files(self, mapped: Mapped, kept: set[str]) -> list[FetchedFile | FileProblem]:
        wanted = [f for f in mapped.files if str(file_id(mapped.ds_id, f)) not in kept]
        limit = self.campaign.attachments.max_bytes
        return list(await asyncio.gather(*(fetch(self.http, f, limit) for f in wanted)))

    def _origin(self, demarche: int, mapped: Mapped) -> Origin:
        return Origin(
            platform=Platform.demarches_simplifiees,
            demarche_number=demarche,
            dossier_number=mapped.ds_number,
            dossier_id=mapped.ds_id,
            deposited_at=mapped.deposited_at,
            champs_modified_at=mapped.champs_modified_at,
            imported_at=self.clock(),
        )

    async def _import(
        self, demarche: int, dossier_id: UUID, mapped: Mapped, files: list[FetchedFile]
    ) -> None:
        now = self.clock()
        origin = self._origin(demarche, mapped)
        attachments = tuple(f.attachment(mapped.ds_id) for f in files)

        async def numbered(conn: asyncpg.Connection) -> Command:
            number = await numbering.next_number(conn, self.campaign.id)
            reference = reference_for(self.campaign, number)
            return ImportDossier(
                dossier_id, reference, self.campaign, mapped.dossier, origin, attachments, now
            )

        async def linked(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
            await self._keep(conn, files)
            await conn.execute(
                _LINK,
                demarche,
                mapped.ds_number,
                mapped.ds_id,
                dossier_id,
                self.campaign.id,
                mapped.digest,
                mapped.state,
                mapped.champs_modified_at,
                json.dumps(sorted(str(a.attachment_id) for a in attachments)),
                now,
            )

        await self._recorded(demarche, mapped.ds_number, dossier_id, numbered, linked, now)

    async def _amend(
        self, demarche: int, dossier_id: UUID, mapped: Mapped, files: list[FetchedFile]
    ) -> None:
        now = self.clock()
        origin = self._origin(demarche, mapped)
        attachments = tuple(f.attachment(mapped.ds_id) for f in files)
        change = uuid5(DS_NAMESPACE, f"{mapped.ds_id}@{mapped.digest}")

        async def knowing(conn: asyncpg.Connection) -> Command:
            decided = await decisions.of(conn, dossier_id)
            return AmendOnPlatform(
                dossier_id, change, mapped.dossier, origin, attachments, now, decided
            )

        async def updated(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
            await self._keep(conn, files)
            added = [str(a.attachment_id) for a in attachments]
            await conn.execute(
                _UPDATED,
                demarche,
                mapped.ds_number,
                mapped.digest,
                mapped.state,
                mapped.champs_modified_at,
                json.dumps(added),
                now,
            )

        await self._recorded(demarche, mapped.ds_number, dossier_id, knowing, updated, now)

    async def _recorded(
        self,
        demarche: int,
        ds_number: int,
        dossier_id: UUID,
        build: Callable[[asyncpg.Connection], Awaitable[Command]],
        then: Then,
        now: datetime,
    ) -> None:
        """The command's events, the DS link's update and the report's end, in one transaction."""

        async def linked(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
            await then(conn, events)
            await conn.execute(_FORGET_ERRORS, demarche, ds_number)

        await execute(
            self.pool,
            self.store,
            DOSSIER,
            dossier_id,
            Prepared(build),
            now=now,
            actor=_actor(demarche),
            then=linked,
        )

    async def _keep(self, conn: asyncpg.Connection, files: list[FetchedFile]) -> None:
        for f in files:
            await self.blobs.put(conn, f.sha256, f.content)

    async def _refused(
        self,
        demarche: int,
        node: dict[str, Any],
        reasons: list[str],
        transient: bool,
        report: ImportReport,
    ) -> None:
        number = int(node["number"])
        report.refused[number] = reasons
        for reason in reasons:
            log.warning("DS dossier not imported: %s", reason)
        if self.dry_run:
            return
        modified = node.get("dateDerniereModification")
        await self.pool.execute(
            _REPORT,
            demarche,
            number,
            _instant(modified) if modified else None,
            json.dumps(reasons, ensure_ascii=False),
            transient,
            self.clock(),
        )

    # --- deletions --------------------------------------------------------------------------

    async def _deletions(self, demarche: int, since: datetime | None, report: ImportReport) -> None:
        """Imported dossiers deleted on DS before aap's decision are withdrawn."""
        after: str | None = None
        while True:
            data = await self.ds.query(
                "DeletedDossiers",
                {
                    "demarche": demarche,
                    "first": PAGE,
                    "after": after,
                    "deletedSince": since.isoformat() if since else None,
                },
            )
            connection = (data.get("demarche") or {}).get("deletedDossiers") or {}
            for gone in connection.get("nodes") or []:
                await self._deleted(demarche, gone, report)
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return
            after = page.get("endCursor")

    async def _deleted(self, demarche: int, gone: dict[str, Any], report: ImportReport) -> None:
        known = await self.pool.fetchrow(_KNOWN, demarche, int(gone["number"]))
        if known is None:
            return
        dossier_id = known["dossier_id"]
        now = self.clock()
        reason = f"{WITHDRAWN_ON_DS} ({gone.get('reason') or 'sans motif'})"

        async def knowing(conn: asyncpg.Connection) -> Command:
            decided = await decisions.of(conn, dossier_id)
            return WithdrawOnPlatform(dossier_id, reason, now, decided)

        try:
            await execute(
                self.pool,
                self.store,
                DOSSIER,
                dossier_id,
                Prepared(knowing),
                now=now,
                actor=_actor(demarche),
            )
            report.withdrawn += 1
        except DomainError as refusal:  # already withdrawn, or decided: said, not undone
            log.info("DS dossier %s deleted on DS: %s", gone["number"], refusal)


# --- what it reads and writes -------------------------------------------------------------------


def _actor(demarche: int) -> str:
    return f"ds-import:demarche={demarche}"


def _connection(data: dict[str, Any], demarche: int) -> dict[str, Any]:
    found = data.get("demarche")
    if not found:
        raise DsNotFound(f"Démarches Simplifiées knows no démarche {demarche} for this token")
    connection: dict[str, Any] = found["dossiers"]
    return connection


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _said(refusal: Exception) -> str:
    if isinstance(refusal, Invalid):
        return "; ".join(f"{e['field']} · {e['type']} · {e['reason']}" for e in refusal.errors)
    return f"{type(refusal).__name__} · {refusal}"


def _file_reason(number: int, problem: FileProblem) -> str:
    return f'{number} · "{problem.file.label}" {problem.file.filename!r} · {problem.kind} · ' + (
        problem.reason
    )


_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('aap-ds-import'), $1)"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('aap-ds-import'), $1)"
_SYNC = "SELECT * FROM ds_sync WHERE demarche_number = $1"
_STARTED = """
INSERT INTO ds_sync (demarche_number, campaign_id, run_since, cursor, seen_until, started_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (demarche_number) DO UPDATE SET campaign_id = $2, run_since = $3, cursor = $4,
    seen_until = $5, started_at = $6, last_error = NULL
"""
_PAGE_DONE = "UPDATE ds_sync SET cursor = $2, seen_until = $3 WHERE demarche_number = $1"
_FINISHED = """
UPDATE ds_sync SET updated_since = $2, deleted_since = $3, finished_at = $4, cursor = NULL,
    run_since = NULL, seen_until = NULL, last_error = NULL
WHERE demarche_number = $1
"""
_FAILED = "UPDATE ds_sync SET last_error = $2 WHERE demarche_number = $1"
_KNOWN = """
SELECT dossier_id, digest, ds_state, files::text AS files FROM ds_dossiers
WHERE demarche_number = $1 AND ds_number = $2
"""
_STATE = """
UPDATE ds_dossiers SET ds_state = $3, updated_at = $4 WHERE demarche_number = $1 AND ds_number = $2
"""
_LINK = """
INSERT INTO ds_dossiers (demarche_number, ds_number, ds_id, dossier_id, campaign_id, digest,
    ds_state, champs_modified_at, files, imported_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $10)
"""
_UPDATED = """
UPDATE ds_dossiers SET digest = $3, ds_state = $4, champs_modified_at = $5,
    files = files || $6::jsonb, updated_at = $7
WHERE demarche_number = $1 AND ds_number = $2
"""
_REPORT = """
INSERT INTO ds_import_errors (demarche_number, ds_number, modified_at, problems, transient,
    recorded_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6)
ON CONFLICT (demarche_number, ds_number) DO UPDATE SET modified_at = $3, problems = $4::jsonb,
    transient = $5, recorded_at = $6
"""
_FORGET_ERRORS = "DELETE FROM ds_import_errors WHERE demarche_number = $1 AND ds_number = $2"
_TRANSIENT = """
SELECT ds_number FROM ds_import_errors WHERE demarche_number = $1 AND transient ORDER BY ds_number
"""


async def reported(pool: asyncpg.Pool, demarche: int) -> list[asyncpg.Record]:
    """The DS dossiers not imported, with their reasons (for `aap ds errors`)."""
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT ds_number, problems::text AS problems, transient, recorded_at "
        "FROM ds_import_errors WHERE demarche_number = $1 ORDER BY ds_number",
        demarche,
    )
    return rows
