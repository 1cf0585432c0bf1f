"""A campaign's dossiers and its ranking as tables to export, read from selection's read model
a row at a time (a server-side cursor: 10,000 dossiers are never all in memory).

The columns are a contract (docs/exports.md): named once here, in this order; a new column is
added at the end, none is renamed.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from shared.kernel.exports import Column, field

CURSOR_ROWS = 500


@dataclass(frozen=True)
class Filters:
    """As the instructors' table filters: state, département, decision, a score at least."""

    state: str | None = None
    departement: str | None = None
    outcome: str | None = None
    min_score: Decimal | None = None


def dossier_columns(console_url: str) -> list[Column]:
    link = Column(
        "link",
        lambda row: f"{console_url}/dossiers/{row['dossier_id']}",
        "the dossier in the web console",
    )
    return [
        field("reference", "the dossier's number, e.g. AAP-2024-00042"),
        field("dossier_id", "its id in aap's events"),
        link,
        field("applicant", "the collectivité"),
        field("siren", "its SIREN"),
        field("departement", "its département"),
        field("state", "where it stands (submitted … convention_signed, withdrawn)"),
        field("eligible", "the check E1–E7: true, false, or empty before it"),
        field("requested_eur", "the amount requested, in euros"),
        field("opinion", "the préfecture's opinion"),
        field("weighted_score", "the committee's weighted score, 0 to 5"),
        field("proposed_eur", "the amount the committee proposed"),
        field("outcome", "the President's decision: selected, rejected, or empty"),
        field("granted_eur", "the amount granted"),
        field("submitted_at", "when it was filed (UTC in XLSX and ODS)"),
        field("decided_at", "when it was decided"),
    ]


def ranking_columns(console_url: str) -> list[Column]:
    by_name = {c.header: c for c in dossier_columns(console_url)}
    rank = field("rank", "its place: best weighted score first, ties by reference")
    names = ("reference", "dossier_id", "link", "applicant", "departement", "opinion")
    then = ("weighted_score", "proposed_eur", "requested_eur", "outcome", "granted_eur")
    return [rank, *(by_name[n] for n in names), *(by_name[n] for n in then)]


_DOSSIERS = """
SELECT dossier_id, reference, applicant, siren, departement, state, eligible, requested_eur,
       opinion, weighted_score, proposed_eur, outcome, granted_eur, submitted_at, decided_at
FROM selection_dossiers
WHERE campaign_id = $1 AND siren IS NOT NULL
  AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR departement = $3)
  AND ($4::text IS NULL OR outcome = $4) AND ($5::numeric IS NULL OR weighted_score >= $5)
ORDER BY reference
"""

_RANKING = """
SELECT row_number() OVER (ORDER BY weighted_score DESC, reference) AS rank, dossier_id,
       reference, applicant, departement, opinion, weighted_score, proposed_eur, requested_eur,
       outcome, granted_eur
FROM selection_dossiers
WHERE campaign_id = $1 AND weighted_score IS NOT NULL AND NOT withdrawn
ORDER BY rank
"""


async def dossiers(
    pool: asyncpg.Pool, campaign_id: str, filters: Filters
) -> AsyncIterator[Mapping[str, Any]]:
    f = filters
    args = (campaign_id, f.state, f.departement, f.outcome, f.min_score)
    async for row in _streamed(pool, _DOSSIERS, *args):
        yield row


async def ranking(pool: asyncpg.Pool, campaign_id: str) -> AsyncIterator[Mapping[str, Any]]:
    async for row in _streamed(pool, _RANKING, campaign_id):
        yield row


async def _streamed(pool: asyncpg.Pool, query: str, *args: Any) -> AsyncIterator[Mapping[str, Any]]:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        async for row in conn.cursor(query, *args, prefetch=CURSOR_ROWS):
            yield dict(row)
