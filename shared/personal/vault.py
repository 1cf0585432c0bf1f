"""The vault: each person's key, kept apart from the events (a KMS's stand-in), and erased.

A PostgreSQL database of its own (`<db_prefix>_vault`), shared by the services as the broker
is: infrastructure, not a service. A person is found by a keyed hash (HMAC-SHA-256) of their
normalised e-mail, under a secret the vault keeps; their events name only a random id. The
services' role may create a person and read keys, never erase: erasure is the
administrator's (`aap personal-data erase`), and destroys the key, then the lookup.
"""

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4

import asyncpg

from shared.personal.fields import normalised
from shared.personal.sealing import new_key

VAULT = "vault"  # the database's name after the prefix, as a service's would be

SCHEMA = """
CREATE TABLE IF NOT EXISTS vault_secret (
    singleton   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    lookup_key  BYTEA   NOT NULL   -- the HMAC key of the lookups
);
CREATE TABLE IF NOT EXISTS persons (
    person_id   UUID        PRIMARY KEY,
    lookup      BYTEA,                  -- HMAC of the normalised e-mail; NULL once announced erased
    data_key    BYTEA,                  -- AES-256 key; NULL once erased
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at   TIMESTAMPTZ,
    CHECK ((data_key IS NULL) = (erased_at IS NOT NULL))
);
-- One living person per lookup; an erased one keeps it until its erasure is announced.
CREATE UNIQUE INDEX IF NOT EXISTS persons_living ON persons (lookup) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS persons_by_lookup ON persons (lookup);
-- Which streams hold a person's sealed values: what the services rewrite at an erasure.
CREATE TABLE IF NOT EXISTS person_streams (
    person_id  UUID NOT NULL REFERENCES persons,
    stream_id  TEXT NOT NULL,
    PRIMARY KEY (person_id, stream_id)
);
"""

GRANTS = """
GRANT SELECT ON vault_secret TO {app};
GRANT SELECT, INSERT ON persons, person_streams TO {app};
REVOKE UPDATE, DELETE, TRUNCATE ON persons, person_streams, vault_secret FROM {app};
"""

_SECRET = "SELECT lookup_key FROM vault_secret"

# A person for each lookup not known yet, then every living person of these lookups.
_PERSONS = """
WITH wanted AS (
    SELECT * FROM unnest($1::bytea[], $2::uuid[], $3::bytea[]) AS w(lookup, person_id, data_key)
), created AS (
    INSERT INTO persons (person_id, lookup, data_key)
    SELECT person_id, lookup, data_key FROM wanted
    ON CONFLICT (lookup) WHERE erased_at IS NULL DO NOTHING
    RETURNING lookup, person_id, data_key
)
SELECT lookup, person_id, data_key FROM created
UNION ALL
SELECT p.lookup, p.person_id, p.data_key FROM persons p JOIN wanted USING (lookup)
WHERE p.erased_at IS NULL
"""

_NOTE = """
INSERT INTO person_streams (person_id, stream_id)
SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING
"""

_KEYS = "SELECT person_id, data_key FROM persons WHERE person_id = ANY($1::uuid[])"

_ERASE = """
UPDATE persons SET data_key = NULL, erased_at = COALESCE(erased_at, now())
WHERE lookup = $1 RETURNING person_id, erased_at
"""
_STREAMS = "SELECT stream_id FROM person_streams WHERE person_id = $1 ORDER BY stream_id"
_FORGET = "UPDATE persons SET lookup = NULL WHERE person_id = $1 AND erased_at IS NOT NULL"


@dataclass(frozen=True)
class Erased:
    person_id: UUID
    erased_at: datetime
    streams: list[str]


class Vault(Protocol):
    async def persons(
        self, emails: Iterable[str], stream_id: str
    ) -> Mapping[str, tuple[UUID, bytes]]:
        """Each e-mail's living person and key (created when unknown), noted as named in the
        stream; by normalised e-mail."""

    async def keys(self, persons: Iterable[UUID]) -> Mapping[UUID, bytes | None]:
        """Each person's key, None once erased (or never known)."""


def lookup(secret: bytes, email: str) -> bytes:
    return hmac.new(secret, normalised(email).encode(), hashlib.sha256).digest()


class PostgresVault:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._secret: bytes | None = None

    async def secret(self, conn: asyncpg.Connection) -> bytes:
        if self._secret is None:
            self._secret = bytes(await conn.fetchval(_SECRET))
        return self._secret

    async def persons(
        self, emails: Iterable[str], stream_id: str
    ) -> Mapping[str, tuple[UUID, bytes]]:
        wanted = sorted({normalised(e) for e in emails})
        if not wanted:
            return {}
        async with self.pool.acquire() as conn, conn.transaction():
            secret = await self.secret(conn)
            by_lookup = {lookup(secret, e): e for e in wanted}
            found: dict[str, tuple[UUID, bytes]] = {}
            # A person created by a concurrent writer after this statement's snapshot is not
            # seen by it: asked again, it is.
            for _ in range(3):
                missing = [k for k, e in by_lookup.items() if e not in found]
                if not missing:
                    break
                rows = await conn.fetch(
                    _PERSONS, missing, [uuid4() for _ in missing], [new_key() for _ in missing]
                )
                for r in rows:
                    found[by_lookup[bytes(r["lookup"])]] = (r["person_id"], bytes(r["data_key"]))
            if len(found) < len(wanted):
                raise RuntimeError("the vault found no living person for an e-mail it was given")
            await conn.execute(_NOTE, [p for p, _ in found.values()], stream_id)
        return found

    async def keys(self, persons: Iterable[UUID]) -> Mapping[UUID, bytes | None]:
        wanted = list(set(persons))
        keys: dict[UUID, bytes | None] = dict.fromkeys(wanted)
        if wanted:
            async with self.pool.acquire() as conn:
                for r in await conn.fetch(_KEYS, wanted):
                    keys[r["person_id"]] = None if r["data_key"] is None else bytes(r["data_key"])
        return keys


async def erase(conn: asyncpg.Connection, email: str) -> list[Erased]:
    """Destroy the keys of the person known by this e-mail (as the administrator): their
    sealed values read as erased from now on. Their lookup stays until `forget`, so that an
    erasure whose announcement failed is found again and announced."""
    secret = bytes(await conn.fetchval(_SECRET))
    erased = []
    async with conn.transaction():
        for row in await conn.fetch(_ERASE, lookup(secret, email)):
            streams = [r["stream_id"] for r in await conn.fetch(_STREAMS, row["person_id"])]
            erased.append(Erased(row["person_id"], row["erased_at"], streams))
    return erased


async def forget(conn: asyncpg.Connection, person_id: UUID) -> None:
    """The erasure announced: nothing in the vault leads from the e-mail to the person."""
    await conn.execute(_FORGET, person_id)


async def provision(conn: asyncpg.Connection, app_role: str) -> None:
    """The vault's tables and its lookup secret (made once), and the services' rights."""
    await conn.execute(SCHEMA)
    await conn.execute(
        "INSERT INTO vault_secret (lookup_key) VALUES ($1) ON CONFLICT DO NOTHING", os.urandom(32)
    )
    await conn.execute(GRANTS.replace("{app}", f'"{app_role}"'))


@dataclass
class MemoryVault:
    """The vault in memory, for tests without a database."""

    people: dict[str, UUID] = field(default_factory=dict)
    data_keys: dict[UUID, bytes | None] = field(default_factory=dict)
    streams: dict[UUID, set[str]] = field(default_factory=dict)

    async def persons(
        self, emails: Iterable[str], stream_id: str
    ) -> Mapping[str, tuple[UUID, bytes]]:
        found = {}
        for email in {normalised(e) for e in emails}:
            person = self.people.get(email)
            if person is None or self.data_keys.get(person) is None:
                person = self.people[email] = uuid4()
                self.data_keys[person] = new_key()
            key = self.data_keys[person]
            assert key is not None
            self.streams.setdefault(person, set()).add(stream_id)
            found[email] = (person, key)
        return found

    async def keys(self, persons: Iterable[UUID]) -> Mapping[UUID, bytes | None]:
        return {p: self.data_keys.get(p) for p in persons}

    def erase(self, email: str) -> UUID | None:
        person = self.people.pop(normalised(email), None)
        if person is not None:
            self.data_keys[person] = None
        return person
