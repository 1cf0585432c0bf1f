"""The committee's read models (each dossier's reviewers, the sessions) and what is read of the
committee: a reviewer's list, a dossier as its reviewer sees it, the whole committee of a dossier
for MILDECA, a session."""

import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from services.selection import queries
from services.selection.sessions import SessionState
from services.selection.state import Reviewers, SelectionState
from shared.contracts import DomainEvent
from shared.contracts.committee import (
    CommitteeSessionDecided,
    CommitteeSessionHeld,
    NoConflictDeclared,
    ReviewerAssigned,
    ReviewerRecused,
    ReviewSubmitted,
)
from shared.kernel import writes
from shared.kernel.consumer import Handler
from shared.kernel.envelope import Envelope
from shared.kernel.rows import as_json, plain

READ_MODELS = ("committee_reviewers", "committee_sessions")

_REVIEWERS, _SESSIONS = READ_MODELS


def _seat(e: NoConflictDeclared | ReviewerRecused | ReviewSubmitted) -> dict[str, Any]:
    return {"dossier_id": e.dossier_id, "reviewer": e.reviewer}


async def on_assigned(conn: asyncpg.Connection, e: ReviewerAssigned, _: Envelope) -> None:
    fresh = {"reference": e.reference, "campaign_id": e.campaign_id, "assigned_at": e.assigned_at}
    seat = {"dossier_id": e.dossier_id, "reviewer": e.reviewer}
    await writes.upsert(conn, _REVIEWERS, seat, {}, on_insert=fresh)


async def on_cleared(conn: asyncpg.Connection, e: NoConflictDeclared, _: Envelope) -> None:
    await writes.update(conn, _REVIEWERS, _seat(e), {"declared_at": e.declared_at})


async def on_recused(conn: asyncpg.Connection, e: ReviewerRecused, _: Envelope) -> None:
    columns = {"recused_at": e.recused_at, "conflict": e.conflict.value}
    await writes.update(conn, _REVIEWERS, _seat(e), columns)


async def on_reviewed(conn: asyncpg.Connection, e: ReviewSubmitted, _: Envelope) -> None:
    columns = {"reviewed_at": e.reviewed_at, "weighted_score": e.weighted_score}
    await writes.update(conn, _REVIEWERS, _seat(e), columns)


async def on_session(conn: asyncpg.Connection, e: CommitteeSessionHeld, _: Envelope) -> None:
    held = {
        "campaign_id": e.campaign_id,
        "title": e.title,
        "held_at": e.held_at,
        "dossiers": len(e.dossiers),
        "members_present": json.dumps(e.members_present),
    }
    await writes.upsert(conn, _SESSIONS, {"session_id": e.session_id}, {}, on_insert=held)


async def on_session_decided(
    conn: asyncpg.Connection, e: CommitteeSessionDecided, _: Envelope
) -> None:
    decided = {"decided_at": e.decided_at, "granted_total_eur": e.granted_total_eur}
    await writes.update(conn, _SESSIONS, {"session_id": e.session_id}, decided)


HANDLERS: dict[type[DomainEvent], Handler] = {
    ReviewerAssigned: on_assigned,
    NoConflictDeclared: on_cleared,
    ReviewerRecused: on_recused,
    ReviewSubmitted: on_reviewed,
    CommitteeSessionHeld: on_session,
    CommitteeSessionDecided: on_session_decided,
}

# --- what is read -------------------------------------------------------------------------------

_MINE = """
SELECT r.dossier_id, r.reference, r.campaign_id, d.applicant, d.departement, d.requested_eur,
       r.assigned_at, r.declared_at, r.recused_at, r.reviewed_at, r.weighted_score,
       d.weighted_score IS NOT NULL AS consensus_recorded, d.outcome
FROM committee_reviewers r LEFT JOIN selection_dossiers d USING (dossier_id)
WHERE r.reviewer = $1 ORDER BY r.assigned_at, r.reference
"""


def _status(row: dict[str, Any]) -> str:
    if row["recused_at"]:
        return "recused"
    if row["reviewed_at"]:
        return "reviewed"
    return "cleared" if row["declared_at"] else "to_declare"


async def reviews_of(pool: asyncpg.Pool, reviewer: str) -> list[dict[str, Any]]:
    """The dossiers a committee member reviews, each with where they stand on it."""
    async with pool.acquire() as conn:
        rows = [as_json(r) for r in await conn.fetch(_MINE, reviewer)]
    return [{**row, "status": _status(row)} for row in rows]


_OPEN = """
SELECT d.dossier_id, d.reference, d.campaign_id, d.applicant, d.departement, d.requested_eur,
       d.submitted_at, d.opinion IS NOT NULL AS opinion_given,
       c.needed - count(r.reviewer) FILTER (WHERE r.recused_at IS NULL) AS seats_left
FROM selection_dossiers d
JOIN unnest($1::text[], $2::int[]) AS c (campaign_id, needed) USING (campaign_id)
LEFT JOIN committee_reviewers r USING (dossier_id)
WHERE d.eligible AND d.weighted_score IS NULL AND d.outcome IS NULL AND NOT d.withdrawn
GROUP BY d.dossier_id, c.needed
HAVING c.needed > count(r.reviewer) FILTER (WHERE r.recused_at IS NULL)
   AND NOT bool_or(coalesce(r.reviewer = $3, false))
ORDER BY d.submitted_at, d.reference
LIMIT 500
"""


async def open_to(
    pool: asyncpg.Pool, volunteering: Mapping[str, int], reviewer: str
) -> list[dict[str, Any]]:
    """The dossiers a committee member may take, in the campaigns whose members volunteer
    (`volunteering`: campaign → reviewers per dossier): a seat left, no consensus yet, and
    never one they were seated on (recused included). What they read of it is what they need
    to know whether they have a conflict of interest: who files it, where."""
    if not volunteering:
        return []
    async with pool.acquire() as conn:
        rows = await conn.fetch(_OPEN, list(volunteering), list(volunteering.values()), reviewer)
    return [as_json(r) for r in rows]


def review_json(review: ReviewSubmitted) -> dict[str, Any]:
    return {
        "reviewer": review.reviewer,
        "scores": review.scores.model_dump(),
        "weighted_score": plain(review.weighted_score),
        "proposed_eur": plain(review.proposed_eur),
        "comment": review.comment,
        "reviewed_at": review.reviewed_at.isoformat(),
    }


def committee_json(state: SelectionState, needed: int, assignment: str) -> dict[str, Any]:
    """The dossier's whole committee, for MILDECA and the auditors."""
    r: Reviewers = state.reviewers
    return {
        "reviewers_per_dossier": needed,
        "assignment": assignment,
        "reviewers": [
            {
                "reviewer": who,
                "status": "recused"
                if who in r.recused
                else "reviewed"
                if who in r.reviews
                else "cleared"
                if who in r.cleared
                else "to_declare",
            }
            for who in r.assigned
        ],
        "reviews": [review_json(v) for v in r.counted.values()],
        "recused_reviews": [review_json(v) for k, v in r.reviews.items() if k in r.recused],
        "reviews_missing": max(0, needed - len(r.counted)),
        "consensus_recorded": state.assessment is not None,
    }


async def dossier_for_reviewer(
    pool: asyncpg.Pool, state: SelectionState, reviewer: str
) -> dict[str, Any]:
    """What a cleared reviewer reads: the dossier as selection knows it (without the
    committee's consensus), their own review, and the others' once theirs is in (each scores
    alone first)."""
    assert state.checked is not None
    view = await queries.dossier(pool, state.checked.dossier_id) or {}
    r = state.reviewers
    own = r.reviews.get(reviewer)
    others = (
        [review_json(v) for k, v in r.counted.items() if k != reviewer] if own is not None else []
    )
    return {
        "dossier": {k: v for k, v in view.items() if k not in queries.DELIBERATION},
        "objectives": [o.value for o in state.checked.objectives],
        "my_review": review_json(own) if own is not None else None,
        "other_reviews": others,
        "other_reviews_hidden_until_mine": own is None,
        "consensus_recorded": state.assessment is not None,
    }


def session_json(state: SessionState) -> dict[str, Any]:
    held, decided = state.held, state.decided
    assert held is not None
    return {
        **held.model_dump(mode="json", exclude={"dossier_id"}),
        "decision": None
        if decided is None
        else decided.model_dump(mode="json", exclude={"dossier_id"}),
    }


async def sessions_of(pool: asyncpg.Pool, campaign_id: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM committee_sessions WHERE campaign_id = $1 ORDER BY held_at DESC",
            campaign_id,
        )
    return [as_json(r, ("members_present",)) for r in rows]
