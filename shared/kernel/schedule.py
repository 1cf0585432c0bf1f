"""The durable schedule: work due at an instant, run once by its handler, kept in PostgreSQL.

A job is a row of `scheduled_jobs` (shared/kernel/sql/kernel.sql): an id chosen by whoever plans
it (planning the same id again is a no-op), a kind naming its handler, the stream it concerns,
the instant it is due and a payload. A runner claims one due job at a time with
`FOR UPDATE SKIP LOCKED` and runs its handler in the transaction that marks the job done, so the
events the handler appends (event store and outbox) and the mark commit together or not at all:
each job runs exactly once, however many instances poll the table, and a job whose instance
died or stopped in its middle is run again by the next poll. A handler that fails is rolled back
to a savepoint (its effects are gone, the job's row stays locked): the job is tried again later,
with a growing wait, and never marked done meanwhile.

"Now" is the runtime's clock, never the database's: tests and rehearsals move it.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.kernel import outages
from shared.kernel.backoff import Backoff
from shared.language.deadlines import reminders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    stream_id: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


# Runs one due job, in the transaction that marks it done; `now` is the runner's clock.
Handler = Callable[[asyncpg.Connection, Job, datetime], Awaitable[None]]
# Told of each job run: its kind and what became of it ("done" or "failed").
Ran = Callable[[str, str], None]

_PLAN = """
INSERT INTO scheduled_jobs (job_id, kind, stream_id, due_at, payload)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (job_id) DO NOTHING
"""

_CANCEL = """
UPDATE scheduled_jobs SET cancelled_at = now()
WHERE stream_id = $1 AND done_at IS NULL AND cancelled_at IS NULL
  AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
"""

_PENDING = """
SELECT job_id, kind, stream_id, due_at, payload FROM scheduled_jobs
WHERE stream_id = $1 AND done_at IS NULL AND cancelled_at IS NULL
ORDER BY due_at, job_id
"""

# The earliest due job nobody holds; a job retried after a failure waits for its `retry_at`.
_CLAIM = """
SELECT job_id, kind, stream_id, due_at, payload, attempts FROM scheduled_jobs
WHERE done_at IS NULL AND cancelled_at IS NULL AND due_at <= $1
  AND (retry_at IS NULL OR retry_at <= $1) AND kind = ANY($2::text[])
ORDER BY due_at, job_id
LIMIT 1
FOR UPDATE SKIP LOCKED
"""

_DONE = """
UPDATE scheduled_jobs SET done_at = $2, attempts = attempts + 1, retry_at = NULL
WHERE job_id = $1
"""

_FAILED = """
UPDATE scheduled_jobs SET attempts = attempts + 1, retry_at = $2, last_error = $3
WHERE job_id = $1
"""


async def plan(
    conn: asyncpg.Connection,
    *,
    job_id: str,
    kind: str,
    stream_id: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Plan a job, in the caller's transaction; a job id already planned (run, cancelled or
    not) is left as it is."""
    if due_at.tzinfo is None:
        raise ValueError(f"job {job_id}: due_at must be timezone-aware, not {due_at!r}")
    await conn.execute(_PLAN, job_id, kind, stream_id, due_at, json.dumps(payload or {}))


async def cancel(
    conn: asyncpg.Connection, *, stream_id: str, kinds: Sequence[str] | None = None
) -> None:
    """Drop the stream's jobs not yet run (of these kinds, when given): they never will be.
    A job in the hands of a runner at this instant is waited for: if it commits first it is
    done, and stays so."""
    await conn.execute(_CANCEL, stream_id, list(kinds) if kinds is not None else None)


async def pending(conn: asyncpg.Connection, stream_id: str) -> list[Job]:
    """The stream's jobs neither run nor cancelled, the earliest due first."""
    return [_job(row) for row in await conn.fetch(_PENDING, stream_id)]


# --- a deadline: its reminders and its overdue, as jobs ---------------------------------------


def deadline_kinds(deadline: str) -> tuple[str, str]:
    """The job kinds of a deadline's reminders and of its overdue: `<deadline>.reminder`,
    `<deadline>.overdue`."""
    return f"{deadline}.reminder", f"{deadline}.overdue"


@dataclass(frozen=True)
class DeadlineJob:
    """What a deadline's job says: which deadline, when it passes, how many days before it a
    reminder is (0 for the overdue), and the event that set it."""

    deadline: str
    due_at: datetime
    window_days: int
    caused_by: str | None

    @classmethod
    def of(cls, job: Job) -> "DeadlineJob":
        p = job.payload
        return cls(
            p["deadline"],
            datetime.fromisoformat(p["due_at"]),
            int(p.get("window_days", 0)),
            p.get("caused_by"),
        )

    @property
    def is_reminder(self) -> bool:
        return self.window_days > 0


async def plan_deadline(
    conn: asyncpg.Connection,
    *,
    key: str,
    stream_id: str,
    deadline: str,
    due_at: datetime,
    reminder_days: Iterable[int],
) -> None:
    """Plan a deadline's reminders (one per reminder day before it) and its overdue (at it).
    Their ids start with `key`, the id of the event that set the deadline: heard twice, planned
    once. Whether each is still due is for its handler to decide when it comes."""
    reminder, overdue = deadline_kinds(deadline)
    common = {"deadline": deadline, "due_at": due_at.isoformat(), "caused_by": key}
    for days, at in reminders(due_at, reminder_days):
        await plan(
            conn,
            job_id=f"{key}:{deadline}:reminder:{days}",
            kind=reminder,
            stream_id=stream_id,
            due_at=at,
            payload={**common, "window_days": days},
        )
    await plan(
        conn,
        job_id=f"{key}:{deadline}:overdue",
        kind=overdue,
        stream_id=stream_id,
        due_at=due_at,
        payload={**common, "window_days": 0},
    )


async def cancel_deadline(conn: asyncpg.Connection, *, stream_id: str, deadline: str) -> None:
    """Drop a deadline's reminders and overdue not yet run: the party acted."""
    await cancel(conn, stream_id=stream_id, kinds=deadline_kinds(deadline))


# --- the runner -------------------------------------------------------------------------------


class ScheduleRunner:
    """Runs the due jobs of the kinds it has a handler for; others are left to whoever has."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Handler],
        *,
        clock: Callable[[], datetime],
        poll_seconds: float = 1.0,
        retry_seconds: float = 5.0,
        longest_retry_seconds: float = 900.0,
        on_run: Ran | None = None,
    ) -> None:
        if retry_seconds <= 0:
            raise ValueError("retry_seconds must be above 0: a failed job waits before its retry")
        self.pool = pool
        self.handlers = dict(handlers)
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self.longest_retry_seconds = longest_retry_seconds
        self.on_run = on_run
        self.waiting = Backoff("the schedule: PostgreSQL", logger=log)
        self._job = asyncio.Lock()
        self._stopped = False

    async def run_once(self) -> bool:
        """Claim the earliest due job and run it; False when none is due (or the runner is
        stopped)."""
        async with self._job:
            if self._stopped or not self.handlers:
                return False
            now = self.clock()
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(_CLAIM, now, list(self.handlers))
                if row is None:
                    return False
                job = _job(row)
                outcome = await self._run(conn, job, row["attempts"], now)
        if self.on_run is not None:
            self.on_run(job.kind, outcome)
        return True

    async def _run(self, conn: asyncpg.Connection, job: Job, attempts: int, now: datetime) -> str:
        try:
            async with conn.transaction():  # a savepoint: a failure undoes the handler alone
                await self.handlers[job.kind](conn, job, now)
        except outages.DATABASE_AWAY:
            raise  # the whole transaction is lost: the job is claimed again once it is back
        except Exception as error:
            wait = min(self.retry_seconds * 2**attempts, self.longest_retry_seconds)
            retry_at = now + timedelta(seconds=wait)
            reason = f"{type(error).__name__}: {error}"
            await conn.execute(_FAILED, job.job_id, retry_at, reason[:2000])
            log.warning(
                "schedule: %s job %s failed (attempt %d): %s; tried again from %s",
                job.kind,
                job.job_id,
                attempts + 1,
                reason,
                retry_at.isoformat(),
                extra={"dossier_id": job.stream_id},
            )
            return "failed"
        await conn.execute(_DONE, job.job_id, now)
        log.info(
            "schedule: ran %s job %s",
            job.kind,
            job.job_id,
            extra={"dossier_id": job.stream_id},
        )
        return "done"

    async def run_due(self) -> int:
        """Run every job due now, one transaction each; how many were run (done or failed)."""
        ran = 0
        while await self.run_once():
            ran += 1
        return ran

    async def run(self) -> None:
        """Poll forever; a database away is waited out quietly (one line when it goes, one when
        it comes back)."""
        while not self._stopped:
            try:
                await self.run_due()
            except Exception as error:  # the database away, mostly: the jobs wait for it
                await self.waiting.pause(error)
                continue
            self.waiting.succeeded()
            await asyncio.sleep(self.poll_seconds)

    async def stop(self) -> None:
        """Let the job in hand commit (or roll back), then run no more."""
        async with self._job:
            self._stopped = True


def _job(row: asyncpg.Record) -> Job:
    return Job(
        job_id=row["job_id"],
        kind=row["kind"],
        stream_id=row["stream_id"],
        due_at=row["due_at"],
        payload=json.loads(row["payload"]),
    )
