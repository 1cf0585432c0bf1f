"""aap's decisions written back to Démarches Simplifiées, each event's effect on DS once.

Two halves. The consumer `ds-writeback` hears applications' and selection's events and, for a
dossier imported from DS, records the steps the event asks (services/applications/ds/steps.py)
as `ds_writes` rows in the transaction of its tracking row: redelivered, an event yields no
second step. The writer (a background task, when `AAP_DS_WRITEBACK` is on, one instance at a
time) sends them in order per dossier, each in three moves: mark it `sending` and commit; send
it once; record what DS answered and commit. DS's mutations are not idempotent, so a row found
`sending` (the writer was killed between the mutation and its record, or DS did not answer) is
settled by reading the dossier on DS first: done there, it is marked done; else sent again.

DS's refusals come as answers (`errors`), sorted by their nature: the state already reached
is done; a correction pending on DS or its SIRET degraded mode passes with time (retried
hourly); a read-only token, an instructeur without access, another decision already taken on
DS are dead (`aap ds writes --dead`: a person decides).
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from services.applications.ds.client import DsClient, DsError, DsNotFound, DsRefused
from services.applications.ds.mapping_file import DsMapping, MappingFileError, load_mapping
from services.applications.ds.settings import DsSettings
from services.applications.ds.steps import TARGET, reached, steps_for
from shared.contracts import DomainEvent
from shared.contracts.applications import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CorrectionRequested,
    DossierClosedIncomplete,
    MessagePosted,
)
from shared.contracts.selection import EligibilityChecked, SelectionDecided
from shared.kernel import db
from shared.kernel.backoff import Backoff
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 50
LATER = timedelta(hours=1)  # a refusal that passes with time (a correction pending on DS)
SOON = timedelta(minutes=5)  # DS away, or refusing the token: tried again after this
# DS's texts for refusals that pass with time (docs/ds-bridge.md §1).
PASSING = ("attente de correction", "SIRET")


# --- the consumer: each event's steps recorded once -------------------------------------------


def subscription(mappings: Callable[[str], DsMapping | None]) -> Subscription:
    async def on_event(conn: asyncpg.Connection, event: DomainEvent, env: Envelope) -> None:
        await record_steps(conn, event, env.id, mappings, env.time)

    kinds: list[type[DomainEvent]] = [
        ApplicationSubmitted,
        EligibilityChecked,
        CorrectionRequested,
        MessagePosted,
        SelectionDecided,
        DossierClosedIncomplete,
        ApplicationWithdrawn,
    ]
    consumer = Consumer("ds-writeback", dict.fromkeys(kinds, on_event))
    return Subscription(consumer, ["applications", "selection"])


_LINKED = """
SELECT demarche_number, ds_number, ds_id, campaign_id FROM ds_dossiers WHERE dossier_id = $1
"""
_INTENT = """
INSERT INTO ds_writes (event_id, step, dossier_id, demarche_number, ds_number, ds_id, mutation,
    input, retry_at, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9) ON CONFLICT DO NOTHING
"""


async def record_steps(
    conn: asyncpg.Connection,
    event: DomainEvent,
    event_id: UUID,
    mappings: Callable[[str], DsMapping | None],
    now: datetime,
) -> None:
    """The steps of an event on a dossier imported from DS, in the tracking row's transaction."""
    linked = await conn.fetchrow(_LINKED, event.dossier_id)
    if linked is None:
        return
    mapping = mappings(linked["campaign_id"])
    annotations = dict(mapping.annotations) if mapping else {}
    for n, step in enumerate(steps_for(event, annotations)):
        await conn.execute(
            _INTENT,
            event_id,
            n,
            event.dossier_id,
            linked["demarche_number"],
            linked["ds_number"],
            linked["ds_id"],
            step.mutation,
            json.dumps(step.input, ensure_ascii=False),
            now,
        )


def mappings_of(settings: DsSettings) -> Callable[[str], DsMapping | None]:
    """Each campaign's mapping file, read once; None for a campaign that has none."""
    folder = Path(settings.mappings_dir) if settings.mappings_dir else None
    cache: dict[str, DsMapping | None] = {}

    def of(campaign_id: str) -> DsMapping | None:
        if campaign_id not in cache:
            try:
                cache[campaign_id] = load_mapping(campaign_id, folder)
            except MappingFileError as missing:  # written back all the same, without annotations
                log.warning("DS write-back of %s without its mapping: %s", campaign_id, missing)
                cache[campaign_id] = None
        return cache[campaign_id]

    return of


# --- the writer: each step sent once, in order per dossier ------------------------------------

_NEXT = """
SELECT w.* FROM ds_writes w
WHERE w.status IN ('pending', 'sending') AND w.retry_at <= $1
  AND NOT EXISTS (SELECT 1 FROM ds_writes e WHERE e.dossier_id = w.dossier_id
                  AND e.position < w.position AND e.status IN ('pending', 'sending'))
ORDER BY w.position LIMIT $2
"""
_SENDING = """
UPDATE ds_writes SET status = 'sending', attempts = attempts + 1, attempted_at = $2
WHERE position = $1
"""
_SETTLED = "UPDATE ds_writes SET status = $2, outcome = $3, retry_at = $4 WHERE position = $1"
_WRITER_LOCK = "SELECT pg_advisory_lock(hashtext('aap-ds-writeback'))"


async def write_forever(rt: Runtime) -> None:
    """The writer, when `AAP_DS_WRITEBACK` is on: one instance sends at a time."""
    settings = DsSettings()
    if not settings.writeback:
        return
    backoff = Backoff("Démarches Simplifiées (write-back)", first=1.0, longest=60.0, logger=log)
    while True:
        try:
            async with db.session(rt.db()) as lock:
                await lock.execute(_WRITER_LOCK)  # another instance writes: wait for its end
                async with DsClient(settings, settings.write_token) as ds:
                    writer = Writer(rt.db(), ds, mappings_of(settings), rt.clock)
                    while True:
                        sent = await writer.send_due()
                        backoff.succeeded()
                        if not sent:
                            await asyncio.sleep(settings.writeback_poll_seconds)
        except (DsError, OSError, asyncpg.PostgresError) as error:
            await backoff.pause(error)


class Writer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        ds: DsClient,
        mappings: Callable[[str], DsMapping | None],
        clock: Callable[[], datetime],
    ) -> None:
        self.pool, self.ds, self.mappings, self.clock = pool, ds, mappings, clock
        self._instructeurs: dict[int, str] = {}

    async def send_due(self) -> int:
        """The steps due, oldest first, the first of each dossier only; how many were tried."""
        rows = await self.pool.fetch(_NEXT, self.clock(), BATCH)
        first: dict[UUID, asyncpg.Record] = {}
        for row in rows:
            first.setdefault(row["dossier_id"], row)
        for row in first.values():
            await self.send(row)
        return len(first)

    async def send(self, row: Mapping[str, Any]) -> None:
        step = {**row, "input": json.loads(row["input"])}
        if row["status"] == "sending" and await self._found_done(step):
            return
        instructeur = await self._instructeur(row["demarche_number"], row["ds_id"])
        now = self.clock()
        await self.pool.execute(_SENDING, row["position"], now)
        step["attempted_at"] = now
        variables = {
            "input": {**step["input"], "dossierId": row["ds_id"], "instructeurId": instructeur}
        }
        try:
            data = await self.ds.mutate(row["mutation"], variables)
        except DsNotFound as gone:
            await self._settle(row, "dead", f"DS knows this dossier no longer: {gone}")
            return
        except DsRefused as refused:
            await self._settle(row, "pending", f"DS refused the token: {refused}", SOON)
            raise
        except DsError as unanswered:  # sent or not: read the dossier before the next try
            await self.pool.execute(
                _SETTLED, row["position"], "sending", str(unanswered), now + SOON / 5
            )
            return
        payload = next(iter(data.values())) or {}
        errors = [e.get("message", "") for e in payload.get("errors") or []]
        if not errors:
            await self._settle(row, "done", _done(payload))
            return
        await self._refused(step, "; ".join(errors))

    async def _refused(self, step: dict[str, Any], said: str) -> None:
        """DS said no: done if the dossier is there already, later if it passes, else dead."""
        if step["mutation"] in TARGET and await self._on_ds_done(step):
            await self._settle(step, "done", f"already on DS ({said})")
        elif any(text in said for text in PASSING):
            await self._settle(step, "pending", f"DS: {said}; tried again later", LATER)
        else:
            await self._settle(step, "dead", f"DS: {said}")
            log.error(
                "DS refused %s on dossier %s: %s (dead: `aap ds writes --dead`)",
                step["mutation"],
                step["ds_number"],
                said,
            )

    async def _found_done(self, step: dict[str, Any]) -> bool:
        """After a crash or no answer: done on DS already? Then marked done, not sent again."""
        if await self._on_ds_done(step):
            await self._settle(step, "done", "found on DS after an interrupted attempt")
            return True
        return False

    async def _on_ds_done(self, step: dict[str, Any]) -> bool:
        data = await self.ds.query("OneDossier", {"number": step["ds_number"]})
        return reached(step["mutation"], data.get("dossier") or {}, step)

    async def _instructeur(self, demarche: int, ds_id: str) -> str:
        """The DS profile id of the mapping's instructeur, read once per démarche."""
        if demarche not in self._instructeurs:
            data = await self.ds.query("DescribeDemarche", {"demarche": demarche})
            wanted = await self._instructeur_email(demarche)
            for group in (data.get("demarche") or {}).get("groupeInstructeurs") or []:
                for person in group.get("instructeurs") or []:
                    if wanted is None or person["email"] == wanted:
                        self._instructeurs[demarche] = person["id"]
            if demarche not in self._instructeurs:
                raise DsRefused(
                    f"démarche {demarche} has no instructeur {wanted}: the mapping's "
                    "instructeur_email must be one of its groupes d'instructeurs"
                )
        return self._instructeurs[demarche]

    async def _instructeur_email(self, demarche: int) -> str | None:
        campaign = await self.pool.fetchval(
            "SELECT campaign_id FROM ds_dossiers WHERE demarche_number = $1 LIMIT 1", demarche
        )
        mapping = self.mappings(campaign) if campaign else None
        return str(mapping.instructeur_email) if mapping and mapping.instructeur_email else None

    async def _settle(
        self, row: Mapping[str, Any], status: str, outcome: str, later: timedelta | None = None
    ) -> None:
        retry_at = self.clock() + (later or timedelta(0))
        await self.pool.execute(_SETTLED, row["position"], status, outcome, retry_at)


def _done(payload: dict[str, Any]) -> str:
    dossier = payload.get("dossier") or {}
    message = payload.get("message") or {}
    if dossier:
        return f"DS state {dossier.get('state')}"
    return f"DS message {message.get('id')}" if message else "done"


async def writes(pool: asyncpg.Pool, *, dead_only: bool) -> list[asyncpg.Record]:
    """The steps recorded (for `aap ds writes`), the dead ones only if asked."""
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT position, ds_number, mutation, status, attempts, outcome, recorded_at "
        "FROM ds_writes WHERE ($1 = false OR status = 'dead') ORDER BY position",
        dead_only,
    )
    return rows


async def retry(pool: asyncpg.Pool, position: int, now: datetime) -> bool:
    """A dead step sent again (after a person fixed what DS refused)."""
    done: str = await pool.execute(
        "UPDATE ds_writes SET status = 'pending', retry_at = $2 WHERE position = $1 "
        "AND status = 'dead'",
        position,
        now,
    )
    return done.endswith(" 1")
