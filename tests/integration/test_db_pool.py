"""The pool: a session that took state is reset when it comes back; others go back as they are."""

from uuid import uuid4

import asyncpg

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
