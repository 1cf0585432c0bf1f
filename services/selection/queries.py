"""Selection's read side: a dossier, a campaign's ranking, from its read model."""

from decimal import Decimal
from typing import Any, Literal, get_args
from uuid import UUID

import asyncpg

from services.selection import envelopes
from services.selection.reranking import reranked
from shared.kernel import db
from shared.kernel.rows import as_json, plain
from shared.language.campaigns import Campaign

_JSON_COLUMNS = ("failed_rules", "scores", "signatures")

# Where a dossier stands (the read model's `state` column), in the order of its life.
State = Literal[
    "submitted",
    "ineligible",
    "awaiting_opinion",
    "opinion_given",
    "assessed",
    "selected",
    "rejected",
    "convention_signed",
    "withdrawn",
]
STATES: tuple[str, ...] = get_args(State)
# What the instructors' table sorts by; anything else is refused before it reaches SQL.
SORTS = (
    "reference",
    "submitted_at",
    "departement",
    "applicant",
    "requested_eur",
    "weighted_score",
    "state",
)
# The committee's deliberation: told to MILDECA and the auditors, never to the applicant nor
# the préfecture (they learn the decision).
DELIBERATION = ("scores", "weighted_score", "proposed_eur", "assessment_comment", "assessed_at")

_LIST_COLUMNS = """
dossier_id, reference, campaign_id, siren, applicant, departement, requested_eur, eligible,
submitted_at, opinion, weighted_score, outcome, granted_eur, state, opinion_due_at,
opinion_overdue, convention_overdue
"""

_FILTER = """
WHERE campaign_id = $1 AND siren IS NOT NULL
  AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR departement = $3)
  AND ($4::text IS NULL OR siren = $4)
"""

_BY_STATE = "SELECT state, count(*) AS n FROM selection_dossiers " + _FILTER + " GROUP BY state"

_BY_DEPARTEMENT = (
    "SELECT departement, count(*) AS n FROM selection_dossiers " + _FILTER + " GROUP BY departement"
)

_DOSSIER = "SELECT * FROM selection_dossiers WHERE dossier_id = $1 AND siren IS NOT NULL"

_RANKING = """
SELECT dossier_id, reference, applicant, departement, opinion, weighted_score, proposed_eur,
       requested_eur, outcome, granted_eur, opinion_due_at, opinion_overdue, convention_overdue
FROM selection_dossiers
WHERE campaign_id = $1 AND weighted_score IS NOT NULL AND NOT withdrawn
ORDER BY weighted_score DESC, reference
"""

_RERANKING = """
SELECT dossier_id, reference, applicant, departement, opinion, weighted_score, scores,
       outcome, granted_eur
FROM selection_dossiers
WHERE campaign_id = $1 AND weighted_score IS NOT NULL AND scores IS NOT NULL AND NOT withdrawn
ORDER BY weighted_score DESC, reference
"""


async def dossier(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    """The dossier's row, or None while selection knows neither its holder nor its check."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_DOSSIER, dossier_id)
    return None if row is None else as_json(row, _JSON_COLUMNS)


async def ranking(pool: asyncpg.Pool, campaign: Campaign) -> dict[str, Any]:
    """The campaign's assessed dossiers, best weighted score first (ties: the earlier filed
    first)."""
    async with db.snapshot(pool) as conn:
        rows = await conn.fetch(_RANKING, campaign.id)
        granted = await envelopes.granted(conn, campaign.id)
    return {
        "campaign_id": campaign.id,
        "envelope_eur": plain(campaign.envelope_eur),
        "granted_eur": plain(granted),
        "remaining_eur": plain(campaign.envelope_eur - granted),
        "dossiers": [{"rank": rank, **as_json(row)} for rank, row in enumerate(rows, start=1)],
    }


async def reweighted(
    pool: asyncpg.Pool, campaign: Campaign, weights: dict[str, Decimal]
) -> dict[str, Any]:
    """The campaign's ranking with other weights, beside the one decided (read-only)."""
    async with pool.acquire() as conn:
        rows = [as_json(row, _JSON_COLUMNS) for row in await conn.fetch(_RERANKING, campaign.id)]
    return {
        "campaign_id": campaign.id,
        "decided_weights": {c: plain(w) for c, w in campaign.criteria_weights.items()},
        "weights": {c: plain(w) for c, w in weights.items()},
        "dossiers": [
            {
                "rank": r.rank,
                "decided_rank": r.decided_rank,
                "moved": r.moved,
                "weighted_score": plain(r.score),
                "decided_weighted_score": r.dossier["weighted_score"],
                **{k: v for k, v in r.dossier.items() if k not in ("scores", "weighted_score")},
            }
            for r in reranked(rows, weights)
        ],
    }


async def campaign_dossiers(
    pool: asyncpg.Pool,
    campaign_id: str,
    *,
    state: str | None,
    departement: str | None,
    siren: str | None,
    sort: str,
    descending: bool,
    page: int,
    per_page: int,
) -> dict[str, Any]:
    """One page of a campaign's dossiers, filtered and sorted, with how many match in all."""
    assert sort in SORTS
    order = f"{sort} {'DESC' if descending else 'ASC'} NULLS LAST, reference"
    query = (
        f"SELECT {_LIST_COLUMNS}, count(*) OVER () AS total FROM selection_dossiers "
        f"{_FILTER} ORDER BY {order} LIMIT $5 OFFSET $6"
    )
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            query, campaign_id, state, departement, siren, per_page, (page - 1) * per_page
        )
    total = rows[0]["total"] if rows else 0
    if not rows and page > 1:
        async with pool.acquire() as conn:
            total = await conn.fetchval(
                "SELECT count(*) FROM selection_dossiers " + _FILTER,
                campaign_id,
                state,
                departement,
                siren,
            )
    dossiers = [{k: v for k, v in as_json(row).items() if k != "total"} for row in rows]
    return {
        "campaign_id": campaign_id,
        "total": total,
        "page": page,
        "per_page": per_page,
        "dossiers": dossiers,
    }


async def campaign_summary(
    pool: asyncpg.Pool, campaign: Campaign, *, departement: str | None
) -> dict[str, Any]:
    """A campaign's dossiers counted by state and by département, and its envelope."""
    args = (campaign.id, None, departement, None)
    async with db.snapshot(pool) as conn:
        by_state = {r["state"]: r["n"] for r in await conn.fetch(_BY_STATE, *args)}
        by_departement = {
            r["departement"]: r["n"] for r in await conn.fetch(_BY_DEPARTEMENT, *args)
        }
        granted = await envelopes.granted(conn, campaign.id)
    return {
        "campaign_id": campaign.id,
        "dossiers": sum(by_state.values()),
        "by_state": {state: by_state.get(state, 0) for state in STATES},
        "by_departement": dict(sorted(by_departement.items())),
        "envelope_eur": plain(campaign.envelope_eur),
        "granted_eur": plain(granted),
        "remaining_eur": plain(campaign.envelope_eur - granted),
    }
