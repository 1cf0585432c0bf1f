"""Campaigns are data: one JSON file per edition of a call, read into a checked model."""

import json
from datetime import datetime
from decimal import Decimal
from importlib import resources
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.errors import NotFound

PARIS = ZoneInfo("Europe/Paris")


class Instalment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    share: Decimal = Field(gt=0, le=1)
    due_on: str


class Campaign(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    reference_prefix: str
    published_at: AwareDatetime
    deadline: AwareDatetime = Field(description="dossiers are accepted strictly before this instant")
    convention_deadline: AwareDatetime
    cap_eur: Decimal
    envelope_eur: Decimal
    min_duration_months: int
    max_duration_months: int
    criteria_weights: dict[str, Decimal]
    payment_plan: list[Instalment]

    def is_open(self, now: datetime) -> bool:
        return self.published_at <= now < self.deadline

    def deadline_paris(self) -> str:
        return self.deadline.astimezone(PARIS).isoformat()


def load_campaigns() -> dict[str, Campaign]:
    folder = resources.files("shared").joinpath("campaigns")
    campaigns = [
        Campaign.model_validate(json.loads(entry.read_text()))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    return {c.id: c for c in campaigns}


def find(campaigns: dict[str, Campaign], campaign_id: str) -> Campaign:
    try:
        return campaigns[campaign_id]
    except KeyError:
        known = ", ".join(sorted(campaigns))
        raise NotFound(f"no campaign {campaign_id!r} (known: {known})") from None
