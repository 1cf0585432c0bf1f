"""The applications service's read side: every SQL its HTTP reads run, returning plain values."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from shared.kernel import db
from shared.kernel.rows import as_json
from shared.language.actors import Actor, within_binding
from shared.language.attachments import AttachmentKind

# The read model, and what applications heard of the decision (its withdrawal rule's input).
_DOSSIER = """
SELECT d.*, x.outcome AS decision, x.decided_at
FROM dossiers d LEFT JOIN decisions x USING (dossier_id)
"""

_ONE = _DOSSIER + "WHERE d.dossier_id = $1"

# A token binds an applicant to a SIREN and a préfecture to a département, nobody else.
_ALL = (
    _DOSSIER + "WHERE ($1::text IS NULL OR d.campaign_id = $1)"
    " AND ($2::text IS NULL OR d.siren = $2) AND ($3::text IS NULL OR d.departement = $3)"
    " ORDER BY d.reference"
)

_JSON = ("filed", "correction")


async def dossier(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    async with db.snapshot(pool) as conn:
        row = await conn.fetchrow(_ONE, dossier_id)
        if row is None:
            return None
        amendments = await conn.fetch(
            "SELECT request_id, amended_at, changes FROM dossier_amendments "
            "WHERE dossier_id = $1 ORDER BY amended_at",
            dossier_id,
        )
    view = as_json(row, _JSON)
    view["amendments"] = [as_json(a, ("changes",)) for a in amendments]
    return view


async def dossier_for(pool: asyncpg.Pool, dossier_id: UUID, actor: Actor) -> dict[str, Any] | None:
    """The dossier, when it is within the actor's binding; None as for one that does not exist."""
    view = await dossier(pool, dossier_id)
    if view is None or not within_binding(
        actor, siren=view["siren"], departement=view["departement"]
    ):
        return None
    return view


async def dossiers(
    pool: asyncpg.Pool, *, campaign_id: str | None, siren: str | None, departement: str | None
) -> list[dict[str, Any]]:
    """By reference; each filter applies when given."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_ALL, campaign_id, siren, departement)
    return [{k: v for k, v in as_json(row, _JSON).items() if k != "filed"} for row in rows]


# --- the exchange -------------------------------------------------------------------------------

_ATTACHMENTS = """
SELECT attachment_id, kind, name, media_type, size, sha256, audience, side, added_at
FROM dossier_attachments
WHERE dossier_id = $1 AND (audience = 'parties' OR $2)
ORDER BY added_at, name
"""


async def attachments(pool: asyncpg.Pool, dossier_id: UUID, *, agent: bool) -> list[dict[str, Any]]:
    """The dossier's files an actor may see: the agents' own only to agents."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_ATTACHMENTS, dossier_id, agent)
    return [as_json(r) for r in rows]


async def attachment(
    pool: asyncpg.Pool, dossier_id: UUID, attachment_id: UUID, *, agent: bool
) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM dossier_attachments WHERE dossier_id = $1 AND attachment_id = $2 "
            "AND (audience = 'parties' OR $3)",
            dossier_id,
            attachment_id,
            agent,
        )
    return None if row is None else as_json(row)


def completeness(
    present: Sequence[dict[str, Any]], required: Sequence[AttachmentKind]
) -> dict[str, Any]:
    """Whether the dossier carries every attachment its call requires, and which are missing."""
    kinds = {a["kind"] for a in present if a["audience"] == "parties"}
    missing = [k.value for k in required if k.value not in kinds]
    return {"complete": not missing, "missing_attachments": missing}


_THREAD = """
SELECT message_id, side, author, text, attachments, posted_at
FROM dossier_messages WHERE dossier_id = $1 AND private = $2
ORDER BY posted_at, message_id
"""


async def thread(pool: asyncpg.Pool, dossier_id: UUID, *, private: bool) -> list[dict[str, Any]]:
    """The thread's messages (private = False) or the agents' notes (private = True), in order,
    each with the files it carries."""
    async with db.snapshot(pool) as conn:
        rows = await conn.fetch(_THREAD, dossier_id, private)
        files = {
            r["attachment_id"]: as_json(r)
            for r in await conn.fetch(
                "SELECT attachment_id, kind, name, media_type, size, sha256 "
                "FROM dossier_attachments WHERE dossier_id = $1",
                dossier_id,
            )
        }
    return [
        {
            **as_json({k: v for k, v in r.items() if k != "attachments"}),
            "attachments": [files[a] for a in r["attachments"] if a in files],
        }
        for r in rows
    ]


# --- drafts -------------------------------------------------------------------------------------


async def drafts(
    pool: asyncpg.Pool, *, siren: str | None, departement: str | None
) -> list[dict[str, Any]]:
    """An applicant's drafts, or the drafts shared with a préfecture, not yet filed."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT draft_id, campaign_id, siren, departement, saved_at, shared_at, "
            "content->'project'->>'title' AS title FROM drafts "
            "WHERE filed_as IS NULL AND ($1::text IS NULL OR siren = $1) "
            "AND ($2::text IS NULL OR departement = $2) ORDER BY saved_at DESC",
            siren,
            departement,
        )
    return [as_json(r) for r in rows]


async def draft(pool: asyncpg.Pool, draft_id: UUID) -> dict[str, Any] | None:
    async with db.snapshot(pool) as conn:
        row = await conn.fetchrow("SELECT * FROM drafts WHERE draft_id = $1", draft_id)
        if row is None:
            return None
        comments = await conn.fetch(
            "SELECT comment_id, departement, author, text, commented_at FROM draft_comments "
            "WHERE draft_id = $1 ORDER BY commented_at",
            draft_id,
        )
    view = as_json(row, ("content",))
    view["comments"] = [as_json(c) for c in comments]
    return view
