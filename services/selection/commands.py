"""What selection is asked to do: one typed command per step, each the input of `decide`.

Besides the actor and the instant, a command carries what selection heard outside the
dossier's stream: whether its applicant withdrew it (from the applications' log), and for a
decision what the campaign granted so far (read under the envelope's lock).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DossierClosedIncomplete,
)
from shared.contracts.committee import Conflict
from shared.contracts.deadlines import DeadlineKind
from shared.contracts.selection import Opinion, Outcome, Scores
from shared.language.actors import Actor
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class CheckEligibility:
    submitted: ApplicationSubmitted
    campaign: Campaign
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class RecheckEligibility:
    """The applicant amended the dossier on a correction request: rules E1–E7 again."""

    amended: ApplicationAmended
    campaign: Campaign
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class GiveOpinion:
    """The préfecture's opinion on a dossier of its département."""

    actor: Actor
    opinion: Opinion
    motivation: str
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class RecordAssessment:
    """The committee's six scores, the amount it proposes and why."""

    actor: Actor
    scores: Scores
    proposed_eur: Decimal
    comment: str
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class AssignReviewer:
    """The moderator names a committee member to review the dossier."""

    actor: Actor
    reviewer: str
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class DeclareInterests:
    """A reviewer's declaration before seeing the dossier: no conflict (None), or the conflict
    that recuses them."""

    actor: Actor
    conflict: Conflict | None
    details: str
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class SubmitReview:
    """A reviewer's six scores, the amount they propose and why."""

    actor: Actor
    scores: Scores
    proposed_eur: Decimal
    comment: str
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class Decide:
    """The President's decision; a selection names the amount granted, a rejection none."""

    actor: Actor
    outcome: Outcome
    granted_eur: Decimal | None
    motivation: str
    campaigns: Mapping[str, Campaign]
    granted_so_far: Decimal
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class Sign:
    """A signature of the convention: the token says who signs, and for which party."""

    actor: Actor
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class ReleaseOnWithdrawal:
    """The applicant withdrew the dossier (heard from the applications' log): a grant decided
    meanwhile goes back."""

    withdrawal: ApplicationWithdrawn | DossierClosedIncomplete  # closed: out of the call alike
    now: datetime


@dataclass(frozen=True)
class RemindOfDeadline:
    """A reminder's instant came (the schedule): whoever must act and has not is reminded."""

    deadline: DeadlineKind
    due_at: datetime  # the deadline the reminder was planned for
    window_days: int  # how many days before it the reminder was planned
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


@dataclass(frozen=True)
class RecordOverdue:
    """A deadline's instant came (the schedule): recorded as passed if it still stands unmet."""

    deadline: DeadlineKind
    due_at: datetime
    campaigns: Mapping[str, Campaign]
    withdrawn: bool
    now: datetime


Command = (
    CheckEligibility
    | RecheckEligibility
    | GiveOpinion
    | RecordAssessment
    | AssignReviewer
    | DeclareInterests
    | SubmitReview
    | Decide
    | Sign
    | ReleaseOnWithdrawal
    | RemindOfDeadline
    | RecordOverdue
)
