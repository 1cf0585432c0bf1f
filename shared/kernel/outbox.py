"""The relay: publishes committed outbox rows to Kafka, in order, losing none.

Why `tx` and not `position` alone: BIGSERIAL values are taken at insert time but become
visible at commit time, so a reader that follows `position` would skip a row whose
transaction commits after a later one. The relay only reads rows whose `tx` is below the
oldest transaction still running (`pg_snapshot_xmin`): no row can appear behind its cursor.
The cursor moves only after Kafka acknowledged (acks=all, idempotent producer); a relay
killed in between publishes the same rows again on restart, and readers dedup by event id.

The relay is woken within its process when a connection that appended goes back to the pool
(`eventstore.Appended`), and otherwise looks every `poll_seconds`. Not by a NOTIFY:
PostgreSQL holds a cluster-wide lock from a NOTIFY until its transaction's commit is flushed,
so no two appending commits could share a WAL flush (8 writers: 3,822 commits/s with it,
7,795 without). Writers of other processes (the CLI, `aap ds import`) are seen at the next
poll. A look that finds rows held back behind an older transaction still running (a
snapshot's horizon spans every database of the cluster) looks again within milliseconds,
the wait doubling up to the poll: that transaction's end wakes nobody.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.kernel import db, kafka_backoff
from shared.kernel.backoff import Backoff
from shared.kernel.eventstore import Appended

log = logging.getLogger(__name__)

_FETCH = """
SELECT position, tx, topic, key, headers, value FROM outbox
WHERE (tx, position) > ($1::xid8, $2::bigint)
  AND tx < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx, position
LIMIT $3
"""

# Rows after the cursor that a fetch left out: committed (or not yet) behind a transaction
# older than theirs still running, in this database or another of the cluster.
_HELD = "SELECT EXISTS (SELECT 1 FROM outbox WHERE (tx, position) > ($1::xid8, $2::bigint))"

_CURSOR = "SELECT tx, position FROM outbox_cursor WHERE relay = $1"

_MARK = """
INSERT INTO outbox_cursor (relay, tx, position) VALUES ($1, $2::xid8, $3)
ON CONFLICT (relay) DO UPDATE SET tx = excluded.tx, position = excluded.position, moved_at = now()
"""

_PRUNE = "DELETE FROM outbox WHERE (tx, position) <= ($1::xid8, $2::bigint)"


@dataclass(frozen=True)
class OutboxRow:
    position: int
    tx: int
    topic: str
    key: str
    headers: dict[str, str]
    value: bytes


def idempotent_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """No linger: the relay hands the producer a fetch's rows at once, so its batches fill
    without it, and an idempotent producer keeps one request in flight a partition: a linger
    was paid again by each batch queued behind the one in flight. 5 ms -> none, alternated
    twice: the full relay case 13,503 / 14,037 -> 18,744 / 20,311 events/s; filed ->
    eligibility p50 at 15 filings a second 127 / 113 -> 38 / 41 ms."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        retry_backoff_ms=kafka_backoff.RETRY_BACKOFF_MS,
    )


# Told of each batch Kafka acknowledged: the rows' topics and how long the acks took.
Published = Callable[[Sequence[str], float], None]

# Batches sent and not yet acknowledged, at most: the next one is fetched and sent meanwhile.
IN_FLIGHT = 2

# A relay that found rows held back looks again after this, doubling up to its poll: the
# transaction before them is a consumer's batch or a filing, over in milliseconds. Waiting for
# the next wake or the poll instead (200 ms) was most of a dossier's way to its eligibility at
# 15 filings a second.
HELD_FIRST_LOOK_SECONDS = 0.002

# Rows a fetch takes, at most. Measured (100,000 events, bench relay, alternated): 500 a batch
# 11,246–13,438 events/s, 2,000 15,356–16,672, 5,000 17,394–17,457 (0.87 of a bare aiokafka
# loop sending the same records); four batches in flight instead of two bought nothing. A crash
# sends again at most IN_FLIGHT batches not yet marked: readers dedup by event id.
BATCH_ROWS = 5000


@dataclass
class _InFlight:
    """A batch sent: its rows, the acknowledgements awaited, when it was sent."""

    rows: list[OutboxRow]
    acks: list["asyncio.Future[Any]"]
    started: float

    def forget(self) -> None:
        """Never marked (the relay stopped on an error): what Kafka says of it is read by no
        one, and must not be reported as never retrieved."""
        for ack in self.acks:
            ack.add_done_callback(lambda f: f.cancelled() or f.exception())


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        name: str = "kafka",
        batch_size: int = BATCH_ROWS,
        poll_seconds: float = 0.2,
        on_published: Published | None = None,
        renew: Callable[[], Awaitable[AIOKafkaProducer]] | None = None,
        appended: Appended | None = None,
    ) -> None:
        self.pool = pool
        self.producer = producer
        # After Kafka failed a batch, a producer whose sequence numbers the broker no longer
        # accepts (the batches expired during an outage) would fail every batch after it.
        self.renew = renew
        self.waiting = Backoff(f"the outbox relay ({name}): PostgreSQL or Kafka", logger=log)
        self.name = name
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.on_published = on_published
        self._wake = asyncio.Event()
        self._batch = asyncio.Lock()
        self._stopped = self._stopping = False
        self.held = False  # whether its last look from the cursor found rows held back
        if appended is not None:
            appended.wakes(self._wake.set)

    async def run(self) -> None:
        """Relay forever; one relay per database holds the advisory lock, others wait."""
        async with db.session(self.pool) as lock_conn:  # the lock is the session's
            await lock_conn.execute("SELECT pg_advisory_lock(hashtext('aap-outbox-relay'))")
            try:
                again = HELD_FIRST_LOOK_SECONDS
                while True:
                    # Cleared before the look, so that a wake during it is not lost.
                    self._wake.clear()
                    if await self.relay_once():
                        again = HELD_FIRST_LOOK_SECONDS
                        continue
                    if self.held:
                        wait, again = min(again, self.poll_seconds), again * 2
                    else:
                        wait, again = self.poll_seconds, HELD_FIRST_LOOK_SECONDS
                    try:
                        await asyncio.wait_for(self._wake.wait(), wait)
                    except TimeoutError:
                        pass
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock_all()")

    async def stop(self) -> None:
        """Let the batches in hand be published and marked, then publish no more."""
        self._stopping = True  # no batch is fetched after those in hand
        async with self._batch:
            self._stopped = True

    async def relay_once(self) -> int:
        """Publish what the outbox holds, batch after batch, the cursor moved after each one's
        acknowledgements, in order. The next batch is fetched and sent while the one before
        waits for its acknowledgements (the idempotent producer keeps the order of each
        partition). Returns how many rows were published."""
        async with self._batch:
            if self._stopped:
                return 0
            rows = await self.fetch()
            if not rows:
                self.waiting.succeeded()
                return 0
            published, in_flight = 0, deque[_InFlight]()
            ahead: asyncio.Task[list[OutboxRow]] | None = None
            try:
                while rows:
                    # The next rows are read while these are handed to the producer, which
                    # makes the sends wait whenever its batches are full.
                    ahead = asyncio.create_task(self.fetch(after=rows[-1]))
                    in_flight.append(await self._send(rows))
                    rows = await ahead
                    ahead = None
                    if self._stopping:
                        rows = []
                    while in_flight and (len(in_flight) >= IN_FLIGHT or not rows):
                        published += await self._settle(in_flight.popleft())
            except KafkaError:
                await self._renew_producer()
                raise  # the cursor did not move past it: the rows go again, readers dedup by id
            finally:
                if ahead is not None:
                    ahead.cancel()
                    await asyncio.gather(ahead, return_exceptions=True)
                for sent in in_flight:  # not to be marked: their fate is read by nobody
                    sent.forget()
            self.waiting.succeeded()
        return published

    async def _send(self, rows: list[OutboxRow]) -> "_InFlight":
        started = perf_counter()
        # Sends are queued in order; the idempotent producer keeps that order per partition.
        acks = [
            await self.producer.send(
                row.topic,
                value=row.value,
                key=row.key.encode(),
                headers=[(k, v.encode()) for k, v in row.headers.items()],
            )
            for row in rows
        ]
        return _InFlight(rows, acks, started)

    async def _settle(self, sent: "_InFlight") -> int:
        """Wait for a batch's acknowledgements, then move the cursor past it."""
        try:
            await asyncio.gather(*sent.acks)
        except BaseException:
            sent.forget()  # the batch's other acknowledgements
            raise
        acked = perf_counter() - sent.started
        await self.mark(sent.rows[-1])
        if self.on_published:
            self.on_published([row.topic for row in sent.rows], acked)
        return len(sent.rows)

    async def _renew_producer(self) -> None:
        if self.renew is None:
            return
        old, self.producer = self.producer, await self.renew()
        try:
            await asyncio.wait_for(old.stop(), 5)
        except Exception as error:  # its batches failed already; nothing of it is kept
            log.info("the relay's former producer did not stop cleanly: %s", error)

    async def fetch(self, after: OutboxRow | None = None) -> list[OutboxRow]:
        """The next rows after the cursor, or after a row already sent. A look from the cursor
        that finds none also says whether rows after it are held back (`held`)."""
        async with self.pool.acquire() as conn:
            if after is not None:
                tx, position = after.tx, after.position
            elif cursor := await conn.fetchrow(_CURSOR, self.name):
                tx, position = cursor["tx"], cursor["position"]
            else:
                tx, position = 0, 0
            records = await conn.fetch(_FETCH, tx, position, self.batch_size)
            if after is None:
                self.held = not records and bool(await conn.fetchval(_HELD, tx, position))
        return [
            OutboxRow(
                r["position"],
                r["tx"],
                r["topic"],
                r["key"],
                orjson.loads(r["headers"]),
                bytes(r["value"]),
            )
            for r in records
        ]

    async def mark(self, last: OutboxRow) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_MARK, self.name, last.tx, last.position)
            await conn.execute(_PRUNE, last.tx, last.position)


async def run_relay_forever(
    relay: OutboxRelay, on_error: Callable[[BaseException], Awaitable[None]] | None = None
) -> None:
    """Keep the relay alive across transient database or Kafka failures."""
    while True:
        try:
            await relay.run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # cancelled, and the cleanup failed on a dead connection: stop all the same
            if on_error:
                await on_error(error)
            await relay.waiting.pause(error)
