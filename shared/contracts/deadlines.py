"""Deadlines: the reminder before one passes, published by whichever service owns the deadline.

Each overdue event is in the contract of the service that owns its deadline: `OpinionOverdue`
and `ConventionOverdue` (selection), `FinalReportOverdue` (payments), `CorrectionOverdue`
(applications).
"""

from enum import Enum

from pydantic import AwareDatetime, Field

from shared.contracts.base import DomainEvent, Upcaster


class DeadlineKind(str, Enum):
    """What is due, and so which service owns the deadline."""

    prefecture_opinion = "prefecture_opinion"  # selection: the préfecture's opinion
    convention = "convention"  # selection: the convention signed by its three parties
    final_report = "final_report"  # payments: the applicant's final report
    correction = "correction"  # applications: the correction asked of the applicant


class PartyToAct(str, Enum):
    """Who must act before the deadline (and is reminded)."""

    applicant = "applicant"  # the collectivité
    prefecture = "prefecture"  # the préfecture of the dossier's département
    mildeca = "mildeca"


class DeadlineApproaching(DomainEvent):
    """A deadline is near and the party that must act has not yet: the reminder (by default 7
    days and 1 day before, the campaign's `deadlines.reminder_days`)."""

    name = "DeadlineApproaching"

    reference: str
    campaign_id: str
    deadline: DeadlineKind
    due_at: AwareDatetime = Field(description="the instant the deadline passes")
    days_left: int = Field(ge=0, description="whole days left, a started day counting as one")
    party: PartyToAct
    reminded_at: AwareDatetime


EVENTS = (DeadlineApproaching,)
UPCASTERS: tuple[Upcaster, ...] = ()
