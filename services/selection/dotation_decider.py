"""A regional dotation as one decider, its stream `dotation:<id>`: computed once per id, by
MILDECA's instructors or its President."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.selection import dotations
from services.selection.errors import DotationAlreadyComputed
from shared.contracts import DomainEvent
from shared.contracts.dotations import CriteriaWeights, DotationComputed, Figure, dotation_key
from shared.kernel.decider import Decider
from shared.language.actors import Actor, Role, require_role

COMPUTE = "compute a regional dotation"


@dataclass(frozen=True)
class ComputeDotation:
    actor: Actor
    dotation_id: str
    title: str
    year: int
    envelope_eur: Decimal
    weights: CriteriaWeights
    figures: tuple[Figure, ...]
    now: datetime


DotationState = DotationComputed | None


def decide(state: DotationState, c: ComputeDotation) -> list[DomainEvent]:
    require_role(c.actor, Role.instructor, Role.president, to=COMPUTE)
    if state is not None:
        raise DotationAlreadyComputed(
            f"dotation {c.dotation_id!r} was computed on {state.computed_at.isoformat()} by "
            f"{state.computed_by}: a dotation is computed once; give another id for another"
        )
    return [
        DotationComputed(
            dossier_id=dotation_key(c.dotation_id),
            dotation_id=c.dotation_id,
            title=c.title,
            year=c.year,
            envelope_eur=c.envelope_eur,
            weights=c.weights,
            figures=list(c.figures),
            parts=dotations.compute(c.envelope_eur, c.weights, c.figures),
            computed_at=c.now,
            computed_by=c.actor.label(),
        )
    ]


def evolve(state: DotationState, event: DomainEvent) -> DotationState:
    match event:
        case DotationComputed():
            return event
        case _:
            return state


DOTATION: Decider[DotationState, ComputeDotation] = Decider(None, decide, evolve)
