"""A campaign's dossiers as they stood at an instant: each export row folded from the dossier's
own stream by the decider's `evolve`, the same fold every command runs on.

Pure. The filing (reference, collectivité, SIREN, département, amount, instant) is
applications' event; selection keeps it as it heard it, and it never changes after: it comes
in as `Filed`. The columns are those of the live export (services/selection/exports.py), so that
an export as of now equals the live one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.selection.domain import SELECTION
from services.selection.state import SelectionState
from shared.contracts import DomainEvent


@dataclass(frozen=True)
class Filed:
    dossier_id: UUID
    reference: str
    applicant: str
    siren: str
    departement: str
    requested_eur: Decimal  # as filed; a check after an amendment says the amended amount
    submitted_at: datetime
    withdrawn: bool  # withdrawn (or closed as incomplete) by the instant


def dossier_row(filed: Filed, events: Iterable[DomainEvent]) -> dict[str, Any]:
    """The export's row of one dossier, from its events up to the instant, in order."""
    state = SELECTION.fold(events)
    checked, assessment, decision = state.checked, state.assessment, state.decision
    return {
        "dossier_id": filed.dossier_id,
        "reference": filed.reference,
        "applicant": filed.applicant,
        "siren": filed.siren,
        "departement": filed.departement,
        "state": state_of(state, withdrawn=filed.withdrawn or state.released),
        "eligible": None if checked is None else checked.eligible,
        "requested_eur": filed.requested_eur if checked is None else checked.requested_eur,
        "opinion": None if state.opinion is None else state.opinion.value,
        "weighted_score": None if assessment is None else assessment.weighted_score,
        "proposed_eur": None if assessment is None else assessment.proposed_eur,
        "outcome": None if decision is None else decision.outcome.value,
        "granted_eur": None if decision is None else decision.granted_eur,
        "submitted_at": _utc(filed.submitted_at),
        "decided_at": None if decision is None else _utc(decision.decided_at),
        "withdrawn": filed.withdrawn or state.released,
    }


def state_of(state: SelectionState, *, withdrawn: bool) -> str:
    """Where the dossier stands: the read model's `state` column (schema.sql) said of a fold."""
    outcome = state.decision.outcome.value if state.decision else None
    if withdrawn:
        return "withdrawn"
    if state.convention_signed:
        return "convention_signed"
    if outcome in ("selected", "rejected"):
        return outcome
    if state.assessment is not None:
        return "assessed"
    if state.opinion is not None:
        return "opinion_given"
    if state.checked is not None:
        return "awaiting_opinion" if state.checked.eligible else "ineligible"
    return "submitted"


def ranked(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ranking as the read model's: assessed dossiers not withdrawn, best weighted score
    first; rows come by reference, and the sort is stable, so ties stay by reference."""
    assessed = [r for r in rows if r["weighted_score"] is not None and not r["withdrawn"]]
    assessed.sort(key=lambda r: -r["weighted_score"])
    return [{**r, "rank": n} for n, r in enumerate(assessed, start=1)]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
