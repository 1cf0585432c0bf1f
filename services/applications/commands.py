"""What applications is asked to do: one typed command per rule, each the input of `decide`."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.contracts.applications import Dossier
from shared.language.actors import Actor
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class Decision:
    """What applications heard of the President's decision (from `SelectionDecided`)."""

    outcome: str
    decided_at: datetime


@dataclass(frozen=True)
class Submit:
    actor: Actor
    dossier_id: UUID
    reference: str  # the campaign's next number, taken in the filing's transaction
    campaign: Campaign
    dossier: Dossier
    now: datetime


@dataclass(frozen=True)
class Withdraw:
    actor: Actor
    dossier_id: UUID
    reason: str
    now: datetime
    decided: Decision | None  # heard from selection's log: the input of the withdrawal rule


Command = Submit | Withdraw
