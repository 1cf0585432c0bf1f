"""What payments is asked to do: one typed command per rule, each the input of `decide`."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from shared.contracts.payments import DepartmentalOpinion
from shared.contracts.selection import ConventionSigned
from shared.language.actors import Actor
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class CommitFunds:
    """The convention binds (heard from selection): the engagement."""

    signed: ConventionSigned
    campaign: Campaign
    now: datetime


@dataclass(frozen=True)
class PayInstalment:
    actor: Actor
    dossier_id: UUID
    now: datetime


@dataclass(frozen=True)
class SubmitFinalReport:
    actor: Actor
    dossier_id: UUID
    justified_spending_eur: Decimal
    summary: str
    now: datetime


@dataclass(frozen=True)
class GiveOpinion:
    """The departmental project lead's motivated opinion, before the balance."""

    actor: Actor
    dossier_id: UUID
    opinion: DepartmentalOpinion
    motivation: str
    now: datetime


@dataclass(frozen=True)
class ReleaseBalance:
    actor: Actor
    dossier_id: UUID
    now: datetime


# What an actor asks over HTTP; CommitFunds is the service's own reaction to the signature.
ActorCommand = PayInstalment | SubmitFinalReport | GiveOpinion | ReleaseBalance
Command = CommitFunds | ActorCommand
