"""Who is logged in: a session per login, kept in the console's database and named by a random
id in the signed session cookie; it ends at logout or when it expires (the person logs in again).
Each carries the token that every form of the session must send back (CSRF). What the person may
do is read from the habilitations at every request: a habilitation revoked or changed applies at
once, not at the next login."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.console import habilitations
from services.console.habilitations import Habilitation
from shared.language.actors import Role

_OPEN = """
INSERT INTO sessions (id, subject, email, given_name, usual_name, siret, id_token, csrf,
                      expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_FIND = "SELECT * FROM sessions WHERE id = $1 AND expires_at > $2"
_CLOSE = "DELETE FROM sessions WHERE id = $1 RETURNING id_token"
_PRUNE = "DELETE FROM sessions WHERE expires_at <= $1"


@dataclass(frozen=True)
class Person:
    """Who is logged in, and what aap lets them do (None: nothing)."""

    session_id: str
    subject: str
    email: str
    given_name: str
    usual_name: str
    siret: str | None
    habilitation: Habilitation | None
    csrf: str
    expires_at: datetime

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.usual_name}".strip() or self.email

    @property
    def role(self) -> Role | None:
        return self.habilitation.role if self.habilitation else None


async def open_session(
    conn: asyncpg.Connection,
    claims: dict[str, str],
    id_token: str,
    now: datetime,
    minutes: int,
) -> str:
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await conn.execute(
        _OPEN,
        session_id,
        claims["sub"],
        claims["email"],
        claims.get("given_name", ""),
        claims.get("usual_name", ""),
        claims.get("siret"),
        id_token,
        csrf,
        now + timedelta(minutes=minutes),
    )
    await conn.execute(_PRUNE, now)
    return session_id


async def person(conn: asyncpg.Connection, session_id: str, now: datetime) -> Person | None:
    row = await conn.fetchrow(_FIND, session_id, now)
    if row is None:
        return None
    habilitation = await habilitations.of(conn, row["email"], row["siret"])
    return Person(
        row["id"],
        row["subject"],
        row["email"],
        row["given_name"],
        row["usual_name"],
        row["siret"],
        habilitation,
        row["csrf"],
        row["expires_at"],
    )


async def close(conn: asyncpg.Connection, session_id: str) -> str | None:
    """End the session; the ID token it held, for the provider's logout."""
    id_token: str | None = await conn.fetchval(_CLOSE, session_id)
    return id_token


def same_token(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected, given)
