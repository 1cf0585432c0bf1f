"""Events of the payments service: commitment, instalments, final report, balance."""

from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.values import DepartementCode, Euros, Motivation, Siren


class PlannedInstalment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    label: str
    due_on: str = Field(description="signature, activity_report, … or balance (the solde)")
    amount_eur: Euros


class FundsCommitted(DomainEvent):
    """The engagement, at the convention's signature: the grant and its payment plan."""

    name = "FundsCommitted"

    reference: str
    campaign_id: str
    siren: Siren
    departement: DepartementCode
    committed_eur: Euros
    plan: list[PlannedInstalment]
    committed_at: AwareDatetime


class InstalmentPaid(DomainEvent):
    name = "InstalmentPaid"

    reference: str
    number: int = Field(ge=1)
    label: str
    amount_eur: Euros
    paid_total_eur: Euros = Field(description="all payments of the dossier, this one included")
    paid_at: AwareDatetime


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


EVENTS = (
    FundsCommitted,
    InstalmentPaid,
    FinalReportSubmitted,
    DepartmentalOpinionGiven,
    BalanceReleased,
    BalanceWithheld,
)
UPCASTERS: tuple[Upcaster, ...] = ()
