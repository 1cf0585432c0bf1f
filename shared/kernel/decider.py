"""An aggregate's rules as a decider: its initial state, `decide` and `evolve`. Pure: no I/O.

Every service's domain gives one per aggregate; `shared.kernel.aggregate` runs its commands.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.contracts import DomainEvent

S = TypeVar("S")
C = TypeVar("C")


@dataclass(frozen=True)
class Decider(Generic[S, C]):
    """One aggregate's rules: where its state starts, what a command decides, what an event does."""

    initial: S
    decide: Callable[[S, C], Sequence[DomainEvent]]
    evolve: Callable[[S, DomainEvent], S]

    def fold(self, events: Iterable[DomainEvent]) -> S:
        state = self.initial
        for event in events:
            state = self.evolve(state, event)
        return state
