"""PostgreSQL: one database per service, its schema, and the application's restricted role."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import asyncpg

from shared.kernel.settings import Settings
from shared.personal import vault


def kernel_sql() -> str:
    return resources.files("shared.kernel").joinpath("sql/kernel.sql").read_text()


async def provision(settings: Settings, service: str, schema_sql: str) -> None:
    """Create the role, the database and the tables if missing; safe to run at every start."""
    await _role_and_database(settings, service)
    conn = await asyncpg.connect(settings.admin_dsn(service))
    try:
        # One migrator at a time per database, whoever else starts alongside.
        await conn.execute("SELECT pg_advisory_lock(hashtext('aap-migrate'))")
        await conn.execute(kernel_sql())
        await conn.execute(schema_sql)
        grants = resources.files("shared.kernel").joinpath("sql/grants.sql").read_text()
        await conn.execute(grants.replace("{app}", f'"{settings.pg_app_user}"'))
    finally:
        await conn.close()


async def provision_vault(settings: Settings) -> None:
    """The vault of the people's keys (shared.personal.vault), a database of its own."""
    await _role_and_database(settings, vault.VAULT)
    conn = await asyncpg.connect(settings.admin_dsn(vault.VAULT))
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext('aap-migrate'))")
        await vault.provision(conn, settings.pg_app_user)
    finally:
        await conn.close()


@asynccontextmanager
async def opened_vault(settings: Settings) -> AsyncIterator[vault.PostgresVault]:
    """The vault for a process that writes or reads events outside a service's runtime."""
    if settings.provision_on_start:
        await provision_vault(settings)
    pool = await open_pool(settings, vault.VAULT, size=2)
    try:
        yield vault.PostgresVault(pool)
    finally:
        await pool.close()


async def _role_and_database(settings: Settings, service: str) -> None:
    admin = await asyncpg.connect(settings.pg_admin_dsn)
    try:
        # Services starting together would race to create the role: one at a time.
        await admin.execute("SELECT pg_advisory_lock(hashtext('aap-provision'))")
        app = settings.pg_app_user
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", app):
            try:
                await admin.execute(
                    f'CREATE ROLE "{app}" LOGIN PASSWORD {_literal(settings.pg_app_password)}'
                )
            except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                pass
        database = settings.database(service)
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            try:
                await admin.execute(f'CREATE DATABASE "{database}"')
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                pass
    finally:
        await admin.close()


async def drop_database(settings: Settings, service: str) -> None:
    admin = await asyncpg.connect(settings.pg_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{settings.database(service)}" WITH (FORCE)')
    finally:
        await admin.close()


class _Connection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    """A pooled connection that says whether its session keeps state past a transaction."""

    __slots__ = ("keeps_session_state",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keeps_session_state = False

    def keep_session_state(self) -> None:
        self.keeps_session_state = True


def keeps_session_state(conn: asyncpg.Connection) -> None:
    """This connection takes what outlives a transaction (an advisory lock held across
    transactions, a LISTEN, a SET): the pool resets its session when it comes back."""
    mark = getattr(conn, "keep_session_state", None)
    if mark is not None:  # a connection of another pool is reset in full anyway
        mark()


@asynccontextmanager
async def session(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection whose session state (a lock held across transactions) is reset, whatever
    happens, when it goes back to the pool."""
    async with pool.acquire() as conn:
        keeps_session_state(conn)
        yield conn


@asynccontextmanager
async def snapshot(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection whose statements all see the database at one moment (a read-only,
    repeatable-read transaction): a read made of several statements never shows a row as it
    was before a consumer's commit beside another as it is after it."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


async def open_pool(
    settings: Settings,
    service: str,
    *,
    size: int = 10,
    on_release: Callable[[asyncpg.Connection], None] | None = None,
) -> asyncpg.Pool:
    """`on_release`: told of each connection given back, its transaction over (the relay's
    wake, shared/kernel/outbox.py)."""

    async def reset(conn: asyncpg.Connection) -> None:
        # asyncpg has rolled back a transaction left open and dropped the listeners already.
        # The rest of a reset (advisory locks, cursors, LISTEN, SET) is a round trip on every
        # release: only for the sessions that took such state (`session`).
        if on_release is not None:
            on_release(conn)
        if isinstance(conn, _Connection) and conn.keeps_session_state:
            await conn.execute(conn.get_reset_query())
            conn.keeps_session_state = False

    # No floor of idle connections: while the server is away, asyncpg would try to restore it
    # every second and log each failure; a connection is opened when a request needs one.
    pool = await asyncpg.create_pool(
        settings.app_dsn(service),
        min_size=0,
        max_size=size,
        reset=reset,
        connection_class=_Connection,
    )
    assert pool is not None
    return pool


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
