"""What the actors of selection ask for: the bodies of its command routes, checked for shape."""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.contracts.selection import Motivation, Opinion, Outcome, Scores
from shared.contracts.values import Euros


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GiveOpinion(Command):
    """The préfecture's opinion on a dossier of its département."""

    opinion: Opinion
    motivation: Motivation


class RecordAssessment(Command):
    """The committee's six scores, the amount it proposes and why."""

    scores: Scores
    proposed_eur: Euros
    comment: Motivation


class Decide(Command):
    """The President's decision; a selection names the amount granted, a rejection grants nothing."""

    outcome: Outcome
    granted_eur: Euros | None = Field(default=None, validate_default=True)
    motivation: Motivation

    @field_validator("granted_eur")
    @classmethod
    def _granted_fits_the_outcome(
        cls, granted: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        outcome = info.data.get("outcome")
        if outcome is Outcome.selected and not granted:
            raise ValueError("a selection names the amount granted, above 0.00")
        if outcome is Outcome.rejected and granted:
            raise ValueError("a rejection grants nothing: leave granted_eur out, or 0.00")
        return granted


class Sign(Command):
    """A signature of the convention: who signs, and for which party, comes from the token."""
