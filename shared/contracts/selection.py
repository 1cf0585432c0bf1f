"""Events of the selection service."""

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.contracts.base import DomainEvent


class FailedRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    reason: str


class EligibilityChecked(DomainEvent):
    name = "EligibilityChecked"

    reference: str
    campaign_id: str
    eligible: bool
    failed_rules: list[FailedRule]
    checked_at: AwareDatetime
