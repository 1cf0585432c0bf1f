"""What payments is asked to do: one typed command per rule, each the input of `decide`."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from shared.contracts.payments import DepartmentalOpinion
from shared.contracts.selection import ConventionSigned
from shared.contracts.values import Attachment
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
class SubmitActivityReport:
    """The collectivité's activity report during the action; numbered by the domain, in order."""

    actor: Actor
    dossier_id: UUID
    summary: str
    spent_to_date_eur: Decimal
    attachments: tuple[UUID, ...]
    instalment_asked: bool
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


@dataclass(frozen=True)
class RemindOfFinalReport:
    """A reminder's instant came (the schedule): the applicant is reminded if the report is
    still awaited."""

    due_at: datetime  # the deadline the reminder was planned for
    window_days: int  # how many days before it
    campaigns: Mapping[str, Campaign]
    now: datetime


@dataclass(frozen=True)
class RecordReportOverdue:
    """The final report's deadline came (the schedule): recorded as passed if it is missing."""

    due_at: datetime
    now: datetime


# What an actor asks over HTTP; CommitFunds is the service's own reaction to the signature, the
# deadlines' commands its own when their instants come.
@dataclass(frozen=True)
class AddSpendingProof:
    """A proof of spending for the final report, its bytes checked and kept by the handler."""

    actor: Actor
    dossier_id: UUID
    attachment: Attachment
    now: datetime


ActorCommand = (
    PayInstalment
    | SubmitActivityReport
    | SubmitFinalReport
    | GiveOpinion
    | ReleaseBalance
    | AddSpendingProof
)
DeadlineCommand = RemindOfFinalReport | RecordReportOverdue
Command = CommitFunds | ActorCommand | DeadlineCommand
