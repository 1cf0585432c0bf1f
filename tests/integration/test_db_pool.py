"""The pool: a session that took state is reset when it comes back; others go back as they are."""

from uuid import uuid4

import asyncpg
import pytest

from shared.kernel import db

_HELD = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1"


async def test_a_lock_held_by_a_session_is_released_when_it_goes_back_to_the_pool(kernel_pool):
    key = hash(uuid4()) % 2**31
    async with db.session(kernel_pool) as conn:
        pid = conn.get_server_pid()
        await conn.execute("SELECT pg_advisory_lock($1)", key)  # and never unlocked
    async with kernel_pool.acquire() as other:
        assert await other.fetchval(_HELD, pid) == 0


async def test_a_transaction_left_open_is_rolled_back_when_its_connection_goes_back(
    kernel_pool: asyncpg.Pool,
):
    async with kernel_pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("CREATE TEMP TABLE left_open (n int) ON COMMIT DROP")
    async with kernel_pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None


_CURSOR = "SELECT position FROM outbox_cursor WHERE relay = $1"


async def test_the_statements_of_a_snapshot_read_see_one_moment(kernel_pool: asyncpg.Pool):
    """A read of several statements (a dossier's row, then its plan) shows nothing another
    connection committed between them, and writes nothing."""
    relay = f"moment-{uuid4()}"
    async with kernel_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO outbox_cursor (relay, tx, position) VALUES ($1, '0', 1)", relay
        )
    try:
        async with db.snapshot(kernel_pool) as reading:
            first = await reading.fetchval(_CURSOR, relay)
            async with kernel_pool.acquire() as writer:
                await writer.execute(
                    "UPDATE outbox_cursor SET position = 2 WHERE relay = $1", relay
                )
            second = await reading.fetchval(_CURSOR, relay)
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                async with reading.transaction():
                    await reading.execute("DELETE FROM outbox_cursor WHERE relay = $1", relay)
        assert (first, second) == (1, 1)
        async with kernel_pool.acquire() as conn:
            assert await conn.fetchval(_CURSOR, relay) == 2
    finally:
        async with kernel_pool.acquire() as conn:
            await conn.execute("DELETE FROM outbox_cursor WHERE relay = $1", relay)
