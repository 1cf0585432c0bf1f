"""Tampering: random mutations of stored events, each detected and located by the store's audit.

The log is real: whole dossiers' lives appended through the EventStore into a PostgreSQL
database of the scenario's own, hash-chained as the services chain them; every head is taken as
published (what the relay sent to Kafka, and `published_heads` read back). Each mutation is one
an attacker with write access to the store could make — a byte of an event changed, a row
deleted (the stream's head included), two rows swapped, a forged row inserted with the versions
after it renumbered, an event rewritten and re-hashed, the tail rewritten and re-hashed to the
end — applied to a copy of one stream; the audit is the store's own (shared/audit: the chain
recomputed, the event at the published head compared with the one published). Detected: the
audit reports a break; located: at a version the mutation touched. A sample of the mutations is
also written to the real table (in a transaction rolled back) and read back from it, so that
PostgreSQL's own storage of the rows (jsonb, timestamptz) is what the audit reads.
"""

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg

from bench.lives import life
from services.applications.main import spec
from shared.audit.chain import Break, verify_chain
from shared.audit.events import AuditEvent
from shared.kernel import db, hashchain, topics
from shared.kernel.eventstore import EventStore, read_stream
from shared.kernel.settings import Settings

Stream = list[AuditEvent]


@dataclass(frozen=True)
class Mutation:
    kind: str
    stream: Stream  # the stream as the attacker left it
    touched: frozenset[int]  # the versions it changed: where a break must be reported


@dataclass
class Figures:
    mutations: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    located: Counter[str] = field(default_factory=Counter)
    stored: Counter[str] = field(default_factory=Counter)  # written to PostgreSQL, read back
    stored_detected: Counter[str] = field(default_factory=Counter)
    undetected: list[str] = field(default_factory=list)

    def count(
        self, kind: str, breaks: Sequence[Break], touched: frozenset[int], *, db: bool
    ) -> None:
        found = bool(breaks)
        (self.stored if db else self.mutations)[kind] += 1
        if db:
            self.stored_detected[kind] += found
        else:
            self.detected[kind] += found
            self.located[kind] += any(b.version in touched for b in breaks)
        if not found and len(self.undetected) < 20:
            self.undetected.append(f"{kind} at {sorted(touched)}{' (stored)' if db else ''}")


def audit(stream: Stream, head: tuple[int, str]) -> list[Break]:
    """The store's audit of one stream (shared/audit/streams.audit_stream): its chain
    recomputed, and its event at the version published compared with the one published."""
    breaks = verify_chain(stream)
    version, published = head
    at = next((e for e in stream if e.version == version), None)
    if at is None or at.hash != published:
        service, stream_id = head_of(stream)
        breaks.append(Break(service, stream_id, version, "head", "not the event published"))
    return breaks


def head_of(stream: Stream) -> tuple[str, str]:
    return (stream[0].service, stream[0].stream_id) if stream else ("?", "?")


def rehashed(event: AuditEvent, prev_hash: str) -> AuditEvent:
    """The event chained again after `prev_hash`, as an attacker who knows the scheme would."""
    return replace(event, prev_hash=prev_hash, hash=hashchain.link(prev_hash, **event.content()))


def _texts(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _texts(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _texts(v, (*path, i))]
    return [path] if isinstance(value, str) and value else []


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _set(value[head], tuple(rest), new)
    return copy


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def a_byte_changed(event: AuditEvent, rng: random.Random) -> AuditEvent:
    """One character of one text of the event, changed (a byte, or the code point it is in)."""
    path = rng.choice(_texts(event.data))
    text = _get(event.data, path)
    i = rng.randrange(len(text))
    changed = chr(ord(text[i]) ^ 1) if ord(text[i]) > 1 else "x"
    return replace(event, data=_set(event.data, path, text[:i] + changed + text[i + 1 :]))


def byte(stream: Stream, rng: random.Random) -> Mutation:
    i = rng.randrange(len(stream))
    mutated = [*stream[:i], a_byte_changed(stream[i], rng), *stream[i + 1 :]]
    return Mutation("byte", mutated, frozenset({stream[i].version}))


def deleted(stream: Stream, rng: random.Random) -> Mutation:
    i = rng.randrange(len(stream))
    return Mutation("deleted", stream[:i] + stream[i + 1 :], frozenset({stream[i].version}))


def swapped(stream: Stream, rng: random.Random) -> Mutation:
    i, j = sorted(rng.sample(range(len(stream)), 2))
    a, b = stream[i], stream[j]
    mutated = list(stream)
    mutated[i], mutated[j] = replace(b, version=a.version), replace(a, version=b.version)
    return Mutation("swapped", mutated, frozenset({a.version, b.version}))


def inserted(stream: Stream, rng: random.Random) -> Mutation:
    """A forged row at version k (a copy of an event, changed, with its own id), the rows from
    k on renumbered after it."""
    i = rng.randrange(len(stream))
    forged = replace(a_byte_changed(stream[i], rng), event_id=uuid4())
    later = [replace(e, version=e.version + 1) for e in stream[i:]]
    mutated = [*stream[:i], forged, *later]
    return Mutation("inserted", mutated, frozenset(range(stream[i].version, len(stream) + 2)))


def rehash_one(stream: Stream, rng: random.Random) -> Mutation:
    i = rng.randrange(len(stream))
    forged = rehashed(a_byte_changed(stream[i], rng), stream[i].prev_hash)
    return Mutation(
        "re-hashed", [*stream[:i], forged, *stream[i + 1 :]], frozenset({stream[i].version})
    )


def rehash_to_the_end(stream: Stream, rng: random.Random) -> Mutation:
    """The tail rewritten from version k and re-chained to the end: a consistent chain, which
    only the head published on Kafka contradicts."""
    i = rng.randrange(len(stream))
    tail, prev = [], stream[i].prev_hash
    for n, event in enumerate(stream[i:]):
        changed = rehashed(a_byte_changed(event, rng) if n == 0 else event, prev)
        tail.append(changed)
        prev = changed.hash
    return Mutation(
        "re-chained to the end",
        [*stream[:i], *tail],
        frozenset(range(stream[i].version, stream[-1].version + 1)),
    )


MUTATIONS: tuple[Callable[[Stream, random.Random], Mutation], ...] = (
    byte,
    deleted,
    swapped,
    inserted,
    rehash_one,
    rehash_to_the_end,
)

_INSERT = """
INSERT INTO events (stream_id, version, event_id, event_type, occurred_at, data, metadata,
                    prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
"""


async def stored_as(conn: asyncpg.Connection, mutation: Mutation, service: str) -> Stream:
    """The mutated stream written over the real one, and read back as the audit reads it."""
    stream_id = mutation.stream[0].stream_id
    # The store refuses UPDATE and DELETE by trigger: an attacker who owns the database lifts it.
    await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
    await conn.execute("DELETE FROM events WHERE stream_id = $1", stream_id)
    for e in mutation.stream:
        metadata = {"actor": e.actor} | ({"causation_id": e.causation_id} if e.causation_id else {})
        await conn.execute(
            _INSERT,
            stream_id,
            e.version,
            e.event_id,
            e.cloud_type,
            e.occurred_at,
            json.dumps(e.data, ensure_ascii=False),
            json.dumps(metadata),
            e.prev_hash,
            e.hash,
        )
    return [AuditEvent.from_stored(service, s) for s in await read_stream(conn, stream_id)]


async def run(
    settings: Settings, *, dossiers: int, mutations: int, stored: int, seed: int = 1
) -> dict[str, Any]:
    """The scenario's figures; `stored` of the `mutations` also go through PostgreSQL."""
    rng = random.Random(seed)
    name = "chaos_tampering"
    await db.provision(settings, name, spec().schema_sql)
    pool = await db.open_pool(settings, name, size=2)
    store = EventStore(source="/aap/chaos", topic=topics.events_topic("chaos", "applications"))
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    try:
        streams: list[Stream] = []
        async with pool.acquire() as conn:
            for n in range(dossiers):
                dossier_id = uuid4()
                events = [e for service in life(dossier_id, at).values() for e in service]
                async with conn.transaction():
                    appended = await store.append(
                        conn,
                        str(dossier_id),
                        0,
                        events,
                        prev_hash=hashchain.GENESIS,
                        now=at + timedelta(minutes=n),
                        metadata={"actor": "applicant:chaos"},
                    )
                streams.append([AuditEvent.from_stored("applications", s) for s in appended])
        heads = {s[0].stream_id: (s[-1].version, s[-1].hash) for s in streams}
        async with pool.acquire() as conn:  # no false alarm: the intact log, as stored, holds
            for s in streams:
                as_stored = await read_stream(conn, s[0].stream_id)
                intact = [AuditEvent.from_stored("applications", e) for e in as_stored]
                assert not audit(intact, heads[s[0].stream_id]), "an intact stream breaks"
        figures = Figures()
        admin = await asyncpg.connect(settings.admin_dsn(name))
        for n in range(mutations):
            stream = rng.choice(streams)
            mutation = MUTATIONS[n % len(MUTATIONS)](stream, rng)
            head = heads[stream[0].stream_id]
            figures.count(mutation.kind, audit(mutation.stream, head), mutation.touched, db=False)
            if n < stored:  # as the database's owner (the services' role may not DELETE)
                tx = admin.transaction()
                await tx.start()
                try:
                    read_back = await stored_as(admin, mutation, "applications")
                finally:
                    await tx.rollback()
                figures.count(mutation.kind, audit(read_back, head), mutation.touched, db=True)
        await admin.close()
        total = sum(len(s) for s in streams)
    finally:
        await pool.close()
        await db.drop_database(settings, name)
    kinds = sorted(figures.mutations)
    return {
        "scenario": "tampering",
        "dossiers": dossiers,
        "events": total,
        "mutations": sum(figures.mutations.values()),
        "detected": sum(figures.detected.values()),
        "located": sum(figures.located.values()),
        "through_postgresql": sum(figures.stored.values()),
        "through_postgresql_detected": sum(figures.stored_detected.values()),
        "by_kind": {
            k: {
                "mutations": figures.mutations[k],
                "detected": figures.detected[k],
                "located": figures.located[k],
                "through_postgresql": figures.stored[k],
                "through_postgresql_detected": figures.stored_detected[k],
            }
            for k in kinds
        },
        "undetected": figures.undetected,
        "invariant": "every mutation detected and located, in memory and through PostgreSQL",
        "holds": sum(figures.detected.values())
        == sum(figures.mutations.values())
        == sum(figures.located.values())
        and sum(figures.stored_detected.values()) == sum(figures.stored.values()),
    }
