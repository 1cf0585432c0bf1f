"""The durable schedule on the real PostgreSQL: each due job run once whatever the runners, its
effects and its "done" committed together, a failure rolled back and tried again later, a cancel
or a second plan changing nothing."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from shared.kernel import db, schedule
from shared.kernel.schedule import Job, ScheduleRunner
from shared.kernel.settings import Settings
from tests.helpers import wait_for
from tests.integration.conftest import Pinged

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def kind() -> str:
    """A kind of this test's own: no other test's runner claims its jobs."""
    return f"test-{uuid4().hex[:8]}"


async def plan(
    conn: asyncpg.Connection, kind: str, due_at: datetime = T0, **payload: object
) -> str:
    job_id = f"job-{uuid4()}"
    await schedule.plan(
        conn, job_id=job_id, kind=kind, stream_id=str(uuid4()), due_at=due_at, payload=payload
    )
    return job_id


async def row(pool: asyncpg.Pool, job_id: str) -> asyncpg.Record:
    async with pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM scheduled_jobs WHERE job_id = $1", job_id)


async def effects(pool: asyncpg.Pool, job_ids: list[str]) -> dict[str, int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT job_id, count(*) AS n FROM job_effects WHERE job_id = ANY($1) GROUP BY 1",
            job_ids,
        )
    return {r["job_id"]: r["n"] for r in rows}


@pytest.fixture(scope="module")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """The kernel's tables (scheduled_jobs among them) in a database of its own."""
    effects_table = "CREATE TABLE IF NOT EXISTS job_effects (job_id TEXT NOT NULL, runner TEXT)"
    await db.provision(settings, "schedule", effects_table)
    pool = await db.open_pool(settings, "schedule", size=20)
    yield pool
    await pool.close()
    await db.drop_database(settings, "schedule")


def recording(runner: str, pause: float = 0.0) -> schedule.Handler:
    """A handler whose effect is a row of job_effects, in the job's transaction."""

    async def handle(conn: asyncpg.Connection, job: Job, now: datetime) -> None:
        await conn.execute("INSERT INTO job_effects VALUES ($1, $2)", job.job_id, runner)
        await asyncio.sleep(pause)  # the other runner looks meanwhile

    return handle


async def test_two_runners_on_one_table_run_each_due_job_exactly_once(settings, pool):
    # given 60 jobs due, and two instances of a service, each with its own pool
    k = kind()
    async with pool.acquire() as conn:
        jobs = [await plan(conn, k, T0 - timedelta(minutes=n)) for n in range(60)]
    other_pool = await db.open_pool(settings, "schedule", size=5)
    try:
        runners = [
            ScheduleRunner(p, {k: recording(name, pause=0.005)}, clock=Clock())
            for name, p in (("one", pool), ("two", other_pool))
        ]
        # when both run every due job at the same time
        ran = await asyncio.gather(*(r.run_due() for r in runners))
    finally:
        await other_pool.close()
    # then each job had its effect once, both shared the work, and every job is done
    assert await effects(pool, jobs) == dict.fromkeys(jobs, 1)
    assert sum(ran) == 60 and all(ran)
    assert [(await row(pool, j))["done_at"] for j in jobs] == [T0] * 60


async def test_the_events_a_job_appends_and_its_done_mark_commit_together(pool, store):
    # given a job whose handler appends an event (and its outbox row), then fails once
    k, attempts = kind(), []
    dossier = uuid4()
    stream = str(dossier)

    async def ping(conn: asyncpg.Connection, job: Job, now: datetime) -> None:
        await store.append(
            conn, stream, 0, [Pinged(dossier_id=dossier, n=1)], prev_hash="", now=now
        )
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("the first attempt fails after its append")

    async with pool.acquire() as conn:
        job_id = await plan(conn, k)
    clock = Clock()
    runner = ScheduleRunner(pool, {k: ping}, clock=clock)

    async def appended() -> tuple[int, int]:
        async with pool.acquire() as conn:
            events = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream)
            outbox = await conn.fetchval("SELECT count(*) FROM outbox WHERE key = $1", stream)
        return events, outbox

    # when it fails: neither its event nor its outbox row stays, and it is not done
    assert await runner.run_due() == 1
    assert await appended() == (0, 0)
    assert (await row(pool, job_id))["done_at"] is None
    # when it is tried again and succeeds: its event, its outbox row and its mark, together
    clock.now += timedelta(minutes=1)
    assert await runner.run_due() == 1
    assert await appended() == (1, 1)
    assert (await row(pool, job_id))["done_at"] == clock.now


async def test_a_job_whose_handler_fails_is_tried_again_later_and_not_marked_done(pool):
    # given a job whose handler fails the first time, after writing its effect
    k, calls = kind(), []

    async def flaky(conn: asyncpg.Connection, job: Job, now: datetime) -> None:
        calls.append(now)
        await conn.execute("INSERT INTO job_effects VALUES ($1, 'flaky')", job.job_id)
        if len(calls) == 1:
            raise RuntimeError("the préfecture's mailbox is full")

    async with pool.acquire() as conn:
        job_id = await plan(conn, k)
    clock = Clock()
    runner = ScheduleRunner(pool, {k: flaky}, clock=clock, retry_seconds=5)
    # when it runs and fails
    assert await runner.run_due() == 1
    # then its effect is rolled back, it is not done, and it waits before its retry
    failed = await row(pool, job_id)
    assert await effects(pool, [job_id]) == {}
    assert (failed["done_at"], failed["attempts"]) == (None, 1)
    assert failed["retry_at"] == T0 + timedelta(seconds=5)
    assert "the préfecture's mailbox is full" in failed["last_error"]
    assert await runner.run_due() == 0, "tried again at once"
    # when its retry comes: run again, done, its effect once
    clock.now = T0 + timedelta(seconds=5)
    assert await runner.run_due() == 1
    done = await row(pool, job_id)
    assert (done["done_at"], done["attempts"]) == (clock.now, 2)
    assert await effects(pool, [job_id]) == {job_id: 1}


async def test_a_job_waits_for_its_instant_on_the_runners_clock(pool):
    k = kind()
    async with pool.acquire() as conn:
        job_id = await plan(conn, k, due_at=T0 + timedelta(days=7))
    clock = Clock()
    runner = ScheduleRunner(pool, {k: recording("one")}, clock=clock)
    assert await runner.run_due() == 0
    clock.now = T0 + timedelta(days=7)
    assert await runner.run_due() == 1
    assert await effects(pool, [job_id]) == {job_id: 1}


async def test_a_cancelled_job_never_runs_and_the_other_kinds_of_its_stream_still_do(pool):
    # given a stream with a reminder and an overdue planned, and another stream's reminder
    reminder, overdue = kind(), kind()
    stream, other = str(uuid4()), str(uuid4())
    async with pool.acquire() as conn:
        for job_id, k, s in (
            ("r", reminder, stream),
            ("o", overdue, stream),
            ("x", reminder, other),
        ):
            await schedule.plan(conn, job_id=f"{stream}:{job_id}", kind=k, stream_id=s, due_at=T0)
        # when the stream's reminders are cancelled
        await schedule.cancel(conn, stream_id=stream, kinds=[reminder])
        # then its overdue and the other stream's reminder remain
        assert [j.kind for j in await schedule.pending(conn, stream)] == [overdue]
        assert [j.stream_id for j in await schedule.pending(conn, other)] == [other]
    runner = ScheduleRunner(
        pool, {reminder: recording("r"), overdue: recording("o")}, clock=Clock()
    )
    assert await runner.run_due() == 2
    assert await effects(pool, [f"{stream}:r", f"{stream}:o", f"{stream}:x"]) == {
        f"{stream}:o": 1,
        f"{stream}:x": 1,
    }
    # and a cancel of every kind drops what is left, the done jobs staying done
    async with pool.acquire() as conn:
        await schedule.cancel(conn, stream_id=stream)
    assert (await row(pool, f"{stream}:o"))["cancelled_at"] is None


async def test_planning_a_job_again_changes_nothing_even_once_it_ran(pool):
    # given a job planned twice, the second time for another instant
    k = kind()
    async with pool.acquire() as conn:
        job_id = await plan(conn, k)
        stream = (await row(pool, job_id))["stream_id"]
        await schedule.plan(
            conn, job_id=job_id, kind=k, stream_id=stream, due_at=T0 + timedelta(days=1)
        )
    # then it is one job, due when first planned
    assert (await row(pool, job_id))["due_at"] == T0
    runner = ScheduleRunner(pool, {k: recording("one")}, clock=Clock())
    assert await runner.run_due() == 1
    # and planned again once it ran, it does not run again
    async with pool.acquire() as conn:
        await schedule.plan(conn, job_id=job_id, kind=k, stream_id=stream, due_at=T0)
    assert await runner.run_due() == 0
    assert await effects(pool, [job_id]) == {job_id: 1}


async def test_a_job_interrupted_in_its_handler_is_run_again_by_the_next_runner(pool):
    # given a runner stopped in the middle of a job (its process killed, its task cancelled)
    k, entered = kind(), asyncio.Event()

    async def hangs(conn: asyncpg.Connection, job: Job, now: datetime) -> None:
        await conn.execute("INSERT INTO job_effects VALUES ($1, 'hangs')", job.job_id)
        entered.set()
        await asyncio.Event().wait()

    async with pool.acquire() as conn:
        job_id = await plan(conn, k)
    task = asyncio.create_task(ScheduleRunner(pool, {k: hangs}, clock=Clock()).run_due())
    await asyncio.wait_for(entered.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # then nothing of it committed, and the next runner runs it, once
    assert (await row(pool, job_id))["done_at"] is None
    assert await ScheduleRunner(pool, {k: recording("next")}, clock=Clock()).run_due() == 1
    assert await effects(pool, [job_id]) == {job_id: 1}


async def test_a_runner_leaves_alone_the_jobs_of_kinds_it_has_no_handler_for(pool):
    theirs = kind()
    async with pool.acquire() as conn:
        job_id = await plan(conn, theirs)
    assert await ScheduleRunner(pool, {kind(): recording("one")}, clock=Clock()).run_due() == 0
    assert (await row(pool, job_id))["done_at"] is None


async def test_a_stopped_runner_lets_the_job_in_hand_commit_then_runs_no_more(pool):
    k, entered, release = kind(), asyncio.Event(), asyncio.Event()

    async def slow(conn: asyncpg.Connection, job: Job, now: datetime) -> None:
        entered.set()
        await release.wait()
        await conn.execute("INSERT INTO job_effects VALUES ($1, 'slow')", job.job_id)

    async with pool.acquire() as conn:
        first, second = await plan(conn, k), await plan(conn, k, T0 + timedelta(seconds=1))
    runner = ScheduleRunner(pool, {k: slow}, clock=Clock(T0 + timedelta(seconds=1)))
    running = asyncio.create_task(runner.run_due())
    await asyncio.wait_for(entered.wait(), 10)
    stopping = asyncio.create_task(runner.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done(), "the stop did not wait for the job in hand"
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert await asyncio.wait_for(running, 10) == 1
    assert await effects(pool, [first, second]) == {first: 1}


async def test_a_job_is_due_at_an_aware_instant(pool):
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="timezone-aware"):
            await schedule.plan(
                conn, job_id="x", kind=kind(), stream_id="s", due_at=datetime(2026, 3, 2, 9, 0)
            )


async def test_the_schedule_waits_out_a_database_away_saying_so_once_each_way(
    settings, pool, caplog
):
    # given a runner whose database went away (its pool closed under it), and a job due
    k = kind()
    async with pool.acquire() as conn:
        job_id = await plan(conn, k)
    gone = await db.open_pool(settings, "schedule", size=2)
    await gone.close()
    runner = ScheduleRunner(gone, {k: recording("one")}, clock=Clock(), poll_seconds=0.05)
    runner.waiting.first, runner.waiting.longest = 0.02, 0.05
    caplog.set_level("WARNING", logger="shared.kernel.schedule")
    task = asyncio.create_task(runner.run())
    try:
        # when it polls through the outage, then the database comes back
        await asyncio.sleep(0.5)
        assert await effects(pool, [job_id]) == {}
        runner.pool = pool
        await wait_for(lambda: has_effect(pool, job_id), timeout=10, what="the job after it")
    finally:
        await runner.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # then it said once that the database went, and once that it came back
    said = [r.getMessage() for r in caplog.records if r.name == "shared.kernel.schedule"]
    assert len([m for m in said if "is unavailable" in m]) == 1, said
    assert len([m for m in said if "answers again" in m]) == 1, said


async def has_effect(pool: asyncpg.Pool, job_id: str) -> bool:
    return await effects(pool, [job_id]) == {job_id: 1}
