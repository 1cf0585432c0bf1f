"""Every command of every service, run the same way: load the stream, decide, append.

An aggregate is a decider (Equinox, pyeventsourcing): an initial state, `decide(state, command)
-> events` and `evolve(state, event) -> state`, pure. This module does the I/O around them:
the stream is loaded and folded, the decision's events appended after it in one transaction,
and the whole is run again when another writer appended to the stream meanwhile.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import asyncpg

from shared.contracts import DomainEvent
from shared.kernel import idempotency
from shared.kernel.decider import Decider
from shared.kernel.eventstore import ConcurrencyConflict, EventStore, StoredEvent, head_hash
from shared.language.errors import DomainError

log = logging.getLogger(__name__)

S = TypeVar("S")
C = TypeVar("C")

ATTEMPTS = 5  # a command that lost the race this many times in a row gives up (409)


class DossierBusy(DomainError):
    """Other commands on the same dossier kept winning the race: the client may try again."""


@dataclass(frozen=True)
class Prepared(Generic[C]):
    """A command built inside the transaction, from what it reads first (a number, a lock)."""

    build: Callable[[asyncpg.Connection], Awaitable[C]]


# What a command's events change besides the stream, in the same transaction.
Then = Callable[[asyncpg.Connection, Sequence[DomainEvent]], Awaitable[None]]


async def run(
    conn: asyncpg.Connection,
    store: EventStore,
    decider: Decider[S, C],
    stream_id: UUID | str,
    command: C,
    *,
    now: datetime,
    actor: str,
    caused_by: UUID | None = None,
    new_stream: bool = False,
) -> list[StoredEvent]:
    """Load, decide, append — in the caller's transaction (a consumer's, with its tracking row).

    `new_stream`: the stream was created for this command (a new dossier id): nothing to load.
    """
    stream = str(stream_id)
    history = [] if new_stream else await store.load(conn, stream)
    state = decider.fold(stored.event() for stored in history)
    events = decider.decide(state, command)
    metadata = {"actor": actor}
    if caused_by is not None:
        metadata["causation_id"] = str(caused_by)
    return await store.append(
        conn,
        stream,
        len(history),
        events,
        prev_hash=head_hash(history),
        now=now,
        metadata=metadata,
        new_stream=new_stream,
    )


async def execute(
    pool: asyncpg.Pool,
    store: EventStore,
    decider: Decider[S, C],
    stream_id: UUID | str,
    command: C | Prepared[C],
    *,
    now: datetime,
    actor: str,
    then: Then | None = None,
    new_stream: bool = False,
) -> list[StoredEvent]:
    """A command from outside (HTTP), in a transaction of its own, run again on a race.

    When the request carries an Idempotency-Key, its record is written in the same
    transaction: the command's events and the key commit together, or neither does.
    """

    async def body(conn: asyncpg.Connection) -> list[StoredEvent]:
        built = await command.build(conn) if isinstance(command, Prepared) else command
        stored = await run(
            conn, store, decider, stream_id, built, now=now, actor=actor, new_stream=new_stream
        )
        if then is not None:
            await then(conn, [s.event() for s in stored])
        return stored

    return await transact(pool, body, stream_id)


Body = Callable[[asyncpg.Connection], Awaitable[list[StoredEvent]]]


async def transact(pool: asyncpg.Pool, body: Body, stream_id: UUID | str) -> list[StoredEvent]:
    """`body` in a transaction of its own, with the request's idempotency record, run again
    when another writer appended first to a stream it appends to (a command may append to
    several: a committee session decides its dossiers with it)."""
    last: ConcurrencyConflict | None = None
    for _ in range(ATTEMPTS):
        try:
            async with pool.acquire() as conn, conn.transaction():
                stored = await body(conn)
                await idempotency.record(conn, stored)
                return stored
        except ConcurrencyConflict as conflict:
            last = conflict
            log.info("%s: another command appended first; deciding again", conflict)
    raise DossierBusy(
        f"dossier {last.stream_id if last else stream_id} kept changing while this command ran; "
        "try again"
    )
