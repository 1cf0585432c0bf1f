"""Audit: the time to return one dossier's full history, in a small log and in a big one.

The four services' event stores are filled with COPY (valid events of dossiers' lives, 16 per
dossier; the hash chain is not valid, which the timing does not need). One dossier's history
is then asked for through `shared.audit.history` (what the auditor's route and `aap audit`
read), again and again, once the log holds the small count of events, and again
once it holds the big one. The history's cost should not grow with the log: the ratio of the
two medians is the figure.
"""

import importlib
import random
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from bench.context import Bench
from bench.lives import EVENT_COLUMNS, Lives
from bench.measure import now, percentile
from bench.results import Comparison, Outcome
from shared.audit import history
from shared.kernel import db, topics
from shared.kernel.settings import Settings

TITLE = "Audit: one dossier's full history, in a small and in a big log"
CHUNK = 2_000  # dossiers copied at a time


async def fill(settings: Settings, lives: Lives, dossiers: list[UUID]) -> None:
    conns = {s: await asyncpg.connect(settings.admin_dsn(s)) for s in topics.SERVICES}
    try:
        for start in range(0, len(dossiers), CHUNK):
            rows: dict[str, list[tuple[Any, ...]]] = {s: [] for s in conns}
            for dossier_id in dossiers[start : start + CHUNK]:
                for service, row in lives.rows(dossier_id):
                    rows[service].append(row)
            for service, conn in conns.items():
                await conn.copy_records_to_table(
                    "events", records=rows[service], columns=EVENT_COLUMNS
                )
        for conn in conns.values():
            await conn.execute("ANALYZE events")
    finally:
        for conn in conns.values():
            await conn.close()


async def timings(
    pools: Mapping[str, asyncpg.Pool], dossiers: list[UUID], queries: int, expected: int
) -> list[float]:
    """Milliseconds of each history asked for, dossiers drawn at random (a few first, untimed)."""
    for dossier_id in random.sample(dossiers, 10):
        await history(pools, dossier_id)
    times = []
    for dossier_id in random.choices(dossiers, k=queries):
        start = now()
        events = await history(pools, dossier_id)
        times.append((now() - start) * 1000)
        if len(events) != expected:
            raise RuntimeError(f"history of {dossier_id}: {len(events)} events, not {expected}")
    return times


async def measure(bench: Bench) -> Outcome:
    settings, sizes = bench.scoped("audit"), bench.sizes
    for service in topics.SERVICES:
        schema = importlib.import_module(f"services.{service}.main").spec().schema_sql
        await db.provision(settings, service, schema)
    lives = Lives()
    pools = {s: await db.open_pool(settings, s, size=2) for s in topics.SERVICES}
    dossiers: list[UUID] = []
    figures: dict[str, Any] = {"events_per_dossier": lives.per_dossier}
    medians, tails = [], []
    try:
        for events in sizes.audit_logs:
            fresh = [uuid4() for _ in range(events // lives.per_dossier - len(dossiers))]
            start = now()
            await fill(settings, lives, fresh)
            figures[f"copy_{events}_events_per_s"] = round(
                len(fresh) * lives.per_dossier / (now() - start)
            )
            dossiers += fresh
            times = await timings(pools, dossiers, sizes.audit_queries, lives.per_dossier)
            medians.append(percentile(times, 50))
            tails.append(percentile(times, 99))
            figures[f"p50_ms_{events}"] = round(medians[-1], 2)
            figures[f"p99_ms_{events}"] = round(tails[-1], 2)
    finally:
        for pool in pools.values():
            await pool.close()
    small, big = (f"{n:,}" for n in sizes.audit_logs)
    return Outcome(
        parameters={
            "log_events": list(sizes.audit_logs),
            "queries": sizes.audit_queries,
            "stores": len(pools),
        },
        comparisons=[
            Comparison(
                f"history p50, {big}-event log",
                "ms",
                medians[1],
                medians[0],
                f"the same, {small}-event log",
                higher_is_better=False,
            ),
            Comparison(
                f"history p99, {big}-event log",
                "ms",
                tails[1],
                tails[0],
                f"the same, {small}-event log",
                higher_is_better=False,
            ),
        ],
        figures=figures,
    )
