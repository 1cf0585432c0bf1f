"""Commands on one dossier's stream: load, decide, append — in one transaction, retried on a race.

A service's domain gives `evolve` (state, event) -> state and a pure decision function;
this module does the I/O around them the same way for every command of every service.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import asyncpg

from shared.contracts import DomainEvent
from shared.kernel.eventstore import ConcurrencyConflict, EventStore, StoredEvent, head_hash
from shared.language.errors import DomainError

S = TypeVar("S")
T = TypeVar("T")


class DossierBusy(DomainError):
    """Other commands on the same dossier kept winning the race: the client may try again."""


@dataclass(frozen=True)
class Loaded(Generic[S]):
    stream_id: str
    state: S
    history: list[StoredEvent]


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    store: EventStore
    initial: Callable[[], S]
    evolve: Callable[[S, DomainEvent], S]

    async def load(self, conn: asyncpg.Connection, dossier_id: UUID | str) -> Loaded[S]:
        stream_id = str(dossier_id)
        history = await self.store.load(conn, stream_id)
        state = self.initial()
        for stored in history:
            state = self.evolve(state, stored.event())
        return Loaded(stream_id, state, history)

    async def record(
        self,
        conn: asyncpg.Connection,
        loaded: Loaded[S],
        events: Sequence[DomainEvent],
        *,
        now: datetime,
        actor: str,
        caused_by: UUID | None = None,
    ) -> list[StoredEvent]:
        """Append after what was loaded; the metadata says who acted and what caused it."""
        metadata = {"actor": actor}
        if caused_by is not None:
            metadata["causation_id"] = str(caused_by)
        return await self.store.append(
            conn,
            loaded.stream_id,
            len(loaded.history),
            events,
            prev_hash=head_hash(loaded.history),
            now=now,
            metadata=metadata,
        )


async def in_transaction(
    pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]], attempts: int = 5
) -> T:
    """Run `work` in a transaction; on a concurrent append to the same stream, run it again."""
    for _ in range(attempts):
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn)
        except ConcurrencyConflict as conflict:
            last = conflict
    raise DossierBusy(f"dossier {last.stream_id} kept changing while this command ran; try again")
