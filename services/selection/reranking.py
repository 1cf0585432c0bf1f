"""A campaign's ranking recomputed with other weights, beside the ranking that was decided.
Pure and read-only: the committee's stored scores, weighted again; nothing is recorded.

What-if for the President and the auditors: "had the préfecture's opinion weighed 3, or
innovation 2, which dossiers would have come first?" The log keeps every score, so any
campaign, past ones included, can be asked.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.selection.instruction import weighted_score
from shared.contracts.selection import Scores
from shared.language.campaigns import CRITERIA


@dataclass(frozen=True)
class Reranked:
    dossier: Mapping[str, Any]  # the ranking's row, as decided
    decided_rank: int
    score: Decimal  # weighted with the weights asked
    rank: int

    @property
    def moved(self) -> int:
        """Places gained (positive) or lost (negative) with the weights asked."""
        return self.decided_rank - self.rank


def reranked(rows: Sequence[Mapping[str, Any]], weights: Mapping[str, Decimal]) -> list[Reranked]:
    """Rows in the decided order (each with its `scores`), ranked again with `weights`, in the
    new order: best score first, ties in the decided order (the decided ranking breaks them by
    reference)."""
    scored = [
        (weighted_score(Scores.model_validate(row["scores"]), weights), decided, row)
        for decided, row in enumerate(rows, start=1)
    ]
    ordered = sorted(scored, key=lambda item: (-item[0], item[1]))
    return [
        Reranked(row, decided, score, rank)
        for rank, (score, decided, row) in enumerate(ordered, start=1)
    ]


def completed(
    asked: Mapping[str, Decimal | None], usual: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """The weights asked, each criterion not asked keeping the campaign's own."""
    weights = {}
    for criterion in CRITERIA:
        given = asked.get(criterion)
        weights[criterion] = usual[criterion] if given is None else given
    return weights
