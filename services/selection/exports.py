"""A campaign's dossiers and its ranking as tables to export, read from selection's read model
a row at a time (a server-side cursor: 10,000 dossiers are never all in memory); or as they
stood at an instant, folded from selection's own store (services/selection/as_of.py).

The columns are a contract (docs/exports.md): named once here, in this order; a new column is
added at the end, none is renamed.
"""

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.selection import as_of
from shared.contracts import DomainEvent, read_event
from shared.kernel.exports import Column, field, link, streamed


@dataclass(frozen=True)
class Filters:
    """As the instructors' table filters: state, département, decision, a score at least."""

    state: str | None = None
    departement: str | None = None
    outcome: str | None = None
    min_score: Decimal | None = None

    def keep(self, row: Mapping[str, Any]) -> bool:
        """The filters said of a row folded as of an instant (the live rows are filtered in SQL)."""
        score = row["weighted_score"]
        return (
            (self.state is None or row["state"] == self.state)
            and (self.departement is None or row["departement"] == self.departement)
            and (self.outcome is None or row["outcome"] == self.outcome)
            and (self.min_score is None or (score is not None and score >= self.min_score))
        )


def dossier_columns(console_url: str) -> list[Column]:
    return [
        field("reference", "the dossier's number, e.g. AAP-2024-00042"),
        field("dossier_id", "its id in aap's events"),
        link(console_url),
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


# Each dossier filed by the instant, with its own events recorded by then, in order: one row per
# event (a dossier none of whose events was recorded yet comes once, its event NULL).
_AS_OF = """
SELECT d.dossier_id, d.reference, d.applicant, d.siren, d.departement, d.requested_eur,
       d.submitted_at, w.dossier_id IS NOT NULL AS withdrawn, e.event_type, e.data
FROM selection_dossiers d
LEFT JOIN withdrawals w ON w.dossier_id = d.dossier_id AND w.withdrawn_at <= $2
LEFT JOIN events e ON e.stream_id = d.dossier_id::text AND e.recorded_at <= $2
WHERE d.campaign_id = $1 AND d.siren IS NOT NULL AND d.submitted_at <= $2
  AND ($3::text IS NULL OR d.departement = $3)
ORDER BY d.reference, d.dossier_id, e.version
"""


async def dossiers(
    pool: asyncpg.Pool, campaign_id: str, filters: Filters, at: datetime | None = None
) -> AsyncIterator[Mapping[str, Any]]:
    """The live rows, or, given an instant, the rows as they stood then."""
    f = filters
    if at is None:
        args = (campaign_id, f.state, f.departement, f.outcome, f.min_score)
        async for row in streamed(pool, _DOSSIERS, *args):
            yield row
        return
    async for row in folded(pool, campaign_id, at, f.departement):
        if f.keep(row):
            yield row


async def ranking(
    pool: asyncpg.Pool, campaign_id: str, at: datetime | None = None
) -> AsyncIterator[Mapping[str, Any]]:
    """The ranking; as of an instant, sorted once every row is folded (the assessed ones only
    are kept: a ranking is at most the campaign's assessed dossiers)."""
    if at is None:
        async for row in streamed(pool, _RANKING, campaign_id):
            yield row
        return
    for row in as_of.ranked([r async for r in folded(pool, campaign_id, at)]):
        yield row


async def folded(
    pool: asyncpg.Pool, campaign_id: str, at: datetime, departement: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Each dossier's row folded from its events recorded by `at`, one dossier at a time."""
    filed: as_of.Filed | None = None
    events: list[DomainEvent] = []
    async for record in streamed(pool, _AS_OF, campaign_id, at, departement):
        if filed is None or filed.dossier_id != record["dossier_id"]:
            if filed is not None:
                yield as_of.dossier_row(filed, events)
            filed, events = _filed(record), []
        if record["event_type"] is not None:
            events.append(read_event(record["event_type"], json.loads(record["data"])))
    if filed is not None:
        yield as_of.dossier_row(filed, events)


def _filed(record: Mapping[str, Any]) -> as_of.Filed:
    names = ("dossier_id", "reference", "applicant", "siren", "departement", "requested_eur")
    return as_of.Filed(
        **{n: record[n] for n in names},
        submitted_at=record["submitted_at"],
        withdrawn=record["withdrawn"],
    )
