"""Where an attachment's bytes are kept: once, by their SHA-256, in the service's PostgreSQL.

`Blobs` is the interface a service uses; an object store (S3, MinIO, Garage) can implement it
later. `put` runs in the caller's transaction, so the bytes are kept exactly when the event
that names them is: a refused command stores nothing.
"""

import hashlib
from typing import Protocol

import asyncpg


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Blobs(Protocol):
    async def put(self, conn: asyncpg.Connection, sha256: str, content: bytes) -> None: ...

    async def get(self, conn: asyncpg.Connection, sha256: str) -> bytes | None: ...


_PUT = """
INSERT INTO blobs (sha256, size, content) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING
"""


class PostgresBlobs:
    """The `blobs` table of the service's own database (shared/kernel/sql/kernel.sql)."""

    async def put(self, conn: asyncpg.Connection, sha256: str, content: bytes) -> None:
        await conn.execute(_PUT, sha256, len(content), content)

    async def get(self, conn: asyncpg.Connection, sha256: str) -> bytes | None:
        content: bytes | None = await conn.fetchval(
            "SELECT content FROM blobs WHERE sha256 = $1", sha256
        )
        return content


def intact(content: bytes, sha256: str) -> bool:
    """The bytes are those the event names."""
    return sha256_of(content) == sha256
