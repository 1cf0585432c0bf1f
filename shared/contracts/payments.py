"""Events of the payments service: commitment, activity reports, instalments, final report,
balance."""

from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.values import (
    Attachment,
    DepartementCode,
    Euros,
    Motivation,
    Siren,
    Text,
)


class PlannedInstalment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    label: str
    due_on: str = Field(description="signature, activity_report, … or balance (the solde)")
    amount_eur: Euros


class FundsCommittedV1(DomainEvent):
    """Version 1, still in the log: it did not say when the final report is due."""

    name = "FundsCommitted"
    version = 1

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    committed_eur: Euros
    plan: list[PlannedInstalment]
    committed_at: AwareDatetime


class FundsCommitted(DomainEvent):
    """The engagement, at the convention's signature: the grant, its payment plan, and when the
    final report is due."""

    name = "FundsCommitted"
    version = 2

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    committed_eur: Euros
    plan: list[PlannedInstalment]
    committed_at: AwareDatetime
    final_report_due_at: AwareDatetime | None = Field(
        default=None,
        description="the final report is due by then: the campaign's "
        "deadlines.final_report_months after the project's end; null when read from version 1",
    )


def _report_due_unsaid(v1: dict[str, Any]) -> dict[str, Any]:
    # Version 1 did not record it: no reminder is planned for such a commitment.
    return {**v1, "final_report_due_at": None}


class InstalmentPaid(DomainEvent):
    name = "InstalmentPaid"

    reference: str
    number: int = Field(ge=1)
    label: str
    amount_eur: Euros
    paid_total_eur: Euros = Field(description="all payments of the dossier, this one included")
    paid_at: AwareDatetime


class ActivityReportSubmitted(DomainEvent):
    """An activity report the collectivité files during the action: what was done and spent so
    far. The plan's instalments due on an activity report are paid once it is filed."""

    name = "ActivityReportSubmitted"

    reference: str
    number: int = Field(ge=1, description="1 for the dossier's first activity report, 2, …")
    summary: Text
    spent_to_date_eur: Euros = Field(description="what the action has spent so far")
    attachments: list[UUID] = Field(
        default_factory=list,
        description="the attachment ids of proofs of spending already added to the dossier "
        "(POST /dossiers/{dossier_id}/final-report/proofs) that the report points to",
    )
    instalment_asked: bool = Field(
        description="the collectivité asks for the instalment the report unlocks"
    )
    submitted_at: AwareDatetime


class FinalReportSubmitted(DomainEvent):
    name = "FinalReportSubmitted"

    reference: str
    justified_spending_eur: Euros = Field(description="the spending the final report justifies")
    summary: Motivation
    submitted_at: AwareDatetime


class DepartmentalOpinion(str, Enum):
    favorable = "favorable"
    unfavorable = "unfavorable"


class DepartmentalOpinionGiven(DomainEvent):
    """The departmental project lead's motivated opinion on the action's effectiveness."""

    name = "DepartmentalOpinionGiven"

    reference: str
    departement: DepartementCode
    opinion: DepartmentalOpinion
    motivation: Motivation
    given_at: AwareDatetime


class BalanceReleased(DomainEvent):
    """The solde: never above what remains of the grant nor above the justified spending."""

    name = "BalanceReleased"

    reference: str
    amount_eur: Euros
    paid_total_eur: Euros
    released_at: AwareDatetime


class BalanceWithheld(DomainEvent):
    name = "BalanceWithheld"

    reference: str
    withheld_eur: Euros = Field(description="what the balance would have been")
    motivation: Motivation
    withheld_at: AwareDatetime


class FinalReportOverdue(DomainEvent):
    """The final report was not submitted by its deadline; it may still come."""

    name = "FinalReportOverdue"

    reference: str
    campaign_id: str
    due_at: AwareDatetime
    recorded_at: AwareDatetime


class SpendingProofAdded(DomainEvent):
    """A proof of spending, attached by the collectivité for its final report: what the file is,
    never its bytes (kept once by their SHA-256 in payments' store, checked at each download)."""

    name = "SpendingProofAdded"

    reference: str
    attachment: Attachment
    added_at: AwareDatetime


EVENTS = (
    FundsCommittedV1,
    FundsCommitted,
    InstalmentPaid,
    FinalReportSubmitted,
    DepartmentalOpinionGiven,
    BalanceReleased,
    BalanceWithheld,
    FinalReportOverdue,
    SpendingProofAdded,
    ActivityReportSubmitted,
)
UPCASTERS: tuple[Upcaster, ...] = (Upcaster(FundsCommittedV1, FundsCommitted, _report_due_unsaid),)
