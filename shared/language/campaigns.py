"""Campaigns are data: one JSON file per edition of a call, read into a checked model."""

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.language.attachments import AttachmentKind
from shared.language.errors import NotFound

PARIS = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")
log = logging.getLogger(__name__)


# The committee's six criteria (DOMAIN.md), in the order of the call's text.
CRITERIA = (
    "adequacy",
    "innovation",
    "team_competence",
    "methodology",
    "partnership",
    "prefecture_opinion",
)


class Instalment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    share: Decimal = Field(gt=0, le=1)
    due_on: str


def instalment_amounts(plan: Sequence[Instalment], granted_eur: Decimal) -> list[Decimal]:
    """Each instalment is its share of the grant rounded down to the cent; the balance (last)
    takes the rest, so the plan adds up exactly to the grant and never a cent above it."""
    amounts = [(i.share * granted_eur).quantize(CENT, rounding=ROUND_DOWN) for i in plan[:-1]]
    amounts.append(granted_eur - sum(amounts, Decimal("0.00")))
    return amounts


class Deadlines(BaseModel):
    """How long each party has to act, and when it is reminded (days before the deadline)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opinion_days: int = Field(
        default=15, ge=1, description="the préfecture's opinion, after it was asked"
    )
    correction_days: int = Field(
        default=15, ge=1, description="a correction, unless the instructor says"
    )
    final_report_months: int = Field(
        default=3, ge=0, description="the final report, after the project's end"
    )
    reminder_days: tuple[int, ...] = Field(
        default=(7, 1), description="reminders, days before each deadline"
    )


class AttachmentRules(BaseModel):
    """Which attachments a dossier must carry to be complete, and how big one may be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required: tuple[AttachmentKind, ...] = (
        AttachmentKind.deliberation,
        AttachmentKind.budget,
        AttachmentKind.bank_details,
    )
    max_bytes: int = Field(default=20_000_000, ge=1, description="20 MB unless the call says")


class Committee(BaseModel):
    """How the committee assesses a dossier: so many reviewers score it, each having declared no
    conflict of interest, then a moderator (an instructor) records their consensus. With 0, the
    committee assesses in one voice: the instructor records the assessment alone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reviewers_per_dossier: int = Field(default=3, ge=0, le=9)
    assignment: Literal["instructor", "volunteer"] = Field(
        default="instructor",
        description="instructor: the moderator names each dossier's reviewers; volunteer: the "
        "committee's members take the dossiers themselves, first come, until they are enough",
    )


class Campaign(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    reference_prefix: str
    published_at: AwareDatetime
    deadline: AwareDatetime = Field(
        description="dossiers are accepted strictly before this instant"
    )
    convention_deadline: AwareDatetime
    cap_eur: Decimal
    envelope_eur: Decimal
    min_duration_months: int
    max_duration_months: int
    criteria_weights: dict[str, Decimal]
    payment_plan: list[Instalment]
    deadlines: Deadlines = Deadlines()
    attachments: AttachmentRules = AttachmentRules()
    committee: Committee = Committee()

    @model_validator(mode="after")
    def _coherent(self) -> "Campaign":
        if sum((i.share for i in self.payment_plan), Decimal(0)) != 1:
            raise ValueError("the payment plan's shares must add up to 1")
        if not self.payment_plan or self.payment_plan[-1].due_on != "balance":
            raise ValueError("the payment plan ends with the balance (due_on: balance)")
        if [i.due_on for i in self.payment_plan].count("balance") != 1:
            raise ValueError("the payment plan has exactly one balance")
        weights = self.criteria_weights
        if (
            set(weights) != set(CRITERIA)
            or any(w < 0 for w in weights.values())
            or not sum(weights.values())
        ):
            raise ValueError(
                f"criteria_weights weighs exactly the six criteria {', '.join(CRITERIA)}, "
                "with weights ≥ 0 and not all zero"
            )
        if not self.published_at < self.deadline <= self.convention_deadline:
            raise ValueError("published_at < deadline <= convention_deadline")
        return self

    def is_open(self, now: datetime) -> bool:
        return self.published_at <= now < self.deadline

    def deadline_paris(self) -> str:
        return self.deadline.astimezone(PARIS).isoformat()


def load_campaigns(extra_dir: str = "") -> dict[str, Campaign]:
    """The editions shipped with aap, and those an operator adds in `extra_dir`
    (AAP_CAMPAIGNS_DIR)."""
    entries = list(resources.files("shared.language").joinpath("campaigns").iterdir())
    if extra_dir:
        entries += sorted(Path(extra_dir).glob("*.json"))
    campaigns = [
        Campaign.model_validate(json.loads(entry.read_text()))
        for entry in entries
        if entry.name.endswith(".json")
    ]
    return {c.id: c for c in campaigns}


class Campaigns(Mapping[str, Campaign]):
    """The campaigns a service knows: those shipped with aap and those an operator puts in
    AAP_CAMPAIGNS_DIR. A file added to that folder is read when its campaign is first asked
    for (the folder is read again only when it changed), so a new call needs no restart; a
    folder whose files do not all read as campaigns is said in the log, and the known ones stay."""

    def __init__(self, extra_dir: str = "") -> None:
        self.extra_dir = extra_dir
        self._seen = self._version()
        self._known = load_campaigns(extra_dir)

    def _version(self) -> int:
        try:
            return Path(self.extra_dir).stat().st_mtime_ns if self.extra_dir else 0
        except OSError:
            return 0

    def _refresh(self) -> None:
        if self._version() == self._seen:
            return
        self._seen = self._version()
        try:
            self._known = load_campaigns(self.extra_dir)
        except (OSError, ValueError) as error:
            log.warning("the campaigns of %s were not read again: %s", self.extra_dir, error)

    def __getitem__(self, campaign_id: str) -> Campaign:
        if campaign_id not in self._known:
            self._refresh()
        return self._known[campaign_id]

    def __iter__(self) -> Iterator[str]:
        self._refresh()
        return iter(dict(self._known))

    def __len__(self) -> int:
        return len(self._known)


def find(campaigns: Mapping[str, Campaign], campaign_id: str) -> Campaign:
    try:
        return campaigns[campaign_id]
    except KeyError:
        known = ", ".join(sorted(campaigns))
        raise NotFound(f"no campaign {campaign_id!r} (known: {known})") from None
