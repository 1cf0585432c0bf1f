"""The bench's own namespace on the local servers: its settings, its environment, its cleanup.

Like the tests, the bench works under a random topic and database prefix, so it never meets
a platform started by `./dev up` nor a test session running at the same time; everything
under the prefix is dropped at the end, whatever happened.
"""

import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from shared.kernel import topics
from shared.kernel.auth import generate_keypair
from shared.kernel.settings import Settings


def namespace(base: Settings, keys: Path) -> Settings:
    """The servers of `base` under a fresh prefix, with a JWT key pair of the run's own."""
    prefix = "b" + secrets.token_hex(4)
    private_pem, public_pem = generate_keypair()
    keys.mkdir(parents=True, exist_ok=True)
    private_key_file = keys / "private.pem"
    private_key_file.write_text(private_pem)
    dsn = urlsplit(base.pg_admin_dsn)
    return base.model_copy(
        update={
            "topic_prefix": prefix,
            "db_prefix": prefix,
            "pg_host": dsn.hostname or base.pg_host,
            "pg_port": dsn.port or base.pg_port,
            "jwt_public_key": public_pem,
            "jwt_private_key_file": str(private_key_file),
        }
    )


def scoped(settings: Settings, case: str) -> Settings:
    """A case's corner of the namespace: its own databases and topics."""
    return settings.model_copy(
        update={
            "topic_prefix": f"{settings.topic_prefix}.{case}",
            "db_prefix": f"{settings.db_prefix}_{case}",
        }
    )


async def clean(settings: Settings) -> list[str]:
    """Drop every database and topic of the namespace; returns what was dropped."""
    dropped: list[str] = []
    admin = await asyncpg.connect(settings.pg_admin_dsn)
    try:
        names = await admin.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            settings.db_prefix + "_",
        )
        for row in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
            dropped.append(row["datname"])
    finally:
        await admin.close()
    dropped += await topics.delete_namespace(settings.kafka_bootstrap, settings.topic_prefix)
    return dropped


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment that gives a service these settings."""
    return {**os.environ, **settings.as_environment(), **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
