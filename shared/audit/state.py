"""Time travel: a dossier as the decision-makers saw it at an instant, folded from its history."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.audit.events import AuditEvent
from shared.contracts import DomainEvent, UnknownEventType
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.contracts.committee import (
    NoConflictDeclared,
    ReviewerAssigned,
    ReviewerRecused,
    ReviewSubmitted,
)
from shared.contracts.payments import (
    BalanceReleased,
    BalanceWithheld,
    DepartmentalOpinionGiven,
    FinalReportSubmitted,
    FundsCommitted,
    InstalmentPaid,
)
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    GrantReleased,
    PrefectureOpinionGiven,
    SelectionDecided,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Grant:
    occurred_at: datetime
    granted_eur: Decimal  # a released grant is given back: negative


@dataclass(frozen=True)
class CampaignEnvelope:
    """A campaign's envelope and the grants of its decisions, each at its instant."""

    campaign_id: str
    envelope_eur: Decimal
    grants: tuple[Grant, ...]

    def remaining(self, at: datetime) -> Decimal:
        return self.envelope_eur - sum(
            (g.granted_eur for g in self.grants if g.occurred_at <= at), ZERO
        )


@dataclass(frozen=True)
class Payments:
    committed_eur: Decimal | None = None
    paid_total_eur: Decimal = ZERO
    instalments: tuple[dict[str, Any], ...] = ()
    final_report: dict[str, Any] | None = None
    departmental_opinion: dict[str, Any] | None = None
    balance: dict[str, Any] | None = None  # {"outcome": "released" | "withheld", ...}


@dataclass(frozen=True)
class DossierAsOf:
    dossier_id: UUID | None
    at: datetime
    submission: dict[str, Any] | None = None
    eligibility: dict[str, Any] | None = None
    prefecture_opinion: dict[str, Any] | None = None
    assessment: dict[str, Any] | None = None  # the latest: a later one replaces it
    # The committee's members on the dossier, by e-mail: seated, cleared, recused (with why),
    # and each one's latest review.
    reviewers: dict[str, dict[str, Any]] = field(default_factory=dict)
    decision: dict[str, Any] | None = None
    signatures: tuple[dict[str, Any], ...] = ()
    convention_signed_at: datetime | None = None
    payments: Payments = field(default_factory=Payments)
    withdrawn: dict[str, Any] | None = None
    envelope_remaining_eur: Decimal | None = None


def campaign_of(events: Iterable[AuditEvent]) -> str | None:
    return next((str(e.data["campaign_id"]) for e in events if "campaign_id" in e.data), None)


def as_of(
    events: Iterable[AuditEvent], at: datetime, envelope: CampaignEnvelope | None = None
) -> DossierAsOf:
    """Fold the history up to `at` (included); the campaign's remaining envelope at `at`."""
    seen = [e for e in events if e.occurred_at <= at]
    dossier_id = next(
        (UUID(str(e.data["dossier_id"])) for e in seen if "dossier_id" in e.data), None
    )
    state = DossierAsOf(dossier_id=dossier_id, at=at)
    for stored in seen:
        try:
            state = _evolve(state, stored.event())
        except (UnknownEventType, ValueError, KeyError, TypeError):
            continue  # an event of no contract (or altered): shown in the history, not folded
    if envelope is not None and envelope.campaign_id == campaign_of(seen):
        state = replace(state, envelope_remaining_eur=envelope.remaining(at))
    return state


def _reviewer(s: DossierAsOf, e: DomainEvent) -> DossierAsOf:
    """The committee's events: each reviewer's entry, as it stood."""
    match e:
        case ReviewerAssigned():
            entry: dict[str, Any] = {"assigned_at": e.assigned_at, "assigned_by": e.assigned_by}
        case NoConflictDeclared():
            entry = {"no_conflict_declared_at": e.declared_at}
        case ReviewerRecused():
            entry = {"recused_at": e.recused_at, "conflict": e.conflict.value, "details": e.details}
        case ReviewSubmitted():
            entry = {
                "review": {
                    "scores": e.scores.model_dump(),
                    "weighted_score": e.weighted_score,
                    "proposed_eur": e.proposed_eur,
                    "comment": e.comment,
                    "reviewed_at": e.reviewed_at,
                }
            }
        case _:
            return s
    who = e.reviewer
    return replace(s, reviewers={**s.reviewers, who: {**s.reviewers.get(who, {}), **entry}})


def _evolve(s: DossierAsOf, e: DomainEvent) -> DossierAsOf:
    pay = s.payments
    match e:
        case ReviewerAssigned() | NoConflictDeclared() | ReviewerRecused() | ReviewSubmitted():
            return _reviewer(s, e)
        case ApplicationSubmitted(dossier=d):
            return replace(
                s,
                submission={
                    "reference": e.reference,
                    "campaign_id": e.campaign_id,
                    "submitted_at": e.submitted_at,
                    "applicant": {
                        "name": d.applicant.name,
                        "siren": d.applicant.siren,
                        "kind": d.applicant.kind.value,
                        "departement": d.applicant.departement,
                    },
                    "title": d.project.title,
                    "requested_eur": d.requested_eur,
                    "total_cost_eur": d.budget.total_cost_eur,
                },
            )
        case ApplicationWithdrawn():
            return replace(s, withdrawn={"withdrawn_at": e.withdrawn_at, "reason": e.reason})
        case EligibilityChecked():
            return replace(
                s,
                eligibility={
                    "eligible": e.eligible,
                    "checked_at": e.checked_at,
                    "failed_rules": [r.model_dump() for r in e.failed_rules],
                },
            )
        case PrefectureOpinionGiven():
            return replace(
                s,
                prefecture_opinion={
                    "opinion": e.opinion.value,
                    "motivation": e.motivation,
                    "given_at": e.given_at,
                },
            )
        case CommitteeAssessmentRecorded():
            return replace(
                s,
                assessment={
                    "scores": e.scores.model_dump(),
                    "weighted_score": e.weighted_score,
                    "proposed_eur": e.proposed_eur,
                    "comment": e.comment,
                    "assessed_at": e.assessed_at,
                },
            )
        case SelectionDecided():
            return replace(
                s,
                decision={
                    "outcome": e.outcome.value,
                    "granted_eur": e.granted_eur,
                    "motivation": e.motivation,
                    "decided_at": e.decided_at,
                },
            )
        case GrantReleased():
            return replace(
                s,
                decision={
                    **(s.decision or {}),
                    "released_eur": e.released_eur,
                    "released_at": e.released_at,
                },
            )
        case ConventionSignatureAdded():
            return replace(
                s,
                signatures=(
                    *s.signatures,
                    {"party": e.party.value, "signatory": e.signatory, "signed_at": e.signed_at},
                ),
            )
        case ConventionSigned():
            return replace(s, convention_signed_at=e.signed_at)
        case FundsCommitted():
            return replace(s, payments=replace(pay, committed_eur=e.committed_eur))
        case InstalmentPaid():
            paid = {
                "number": e.number,
                "label": e.label,
                "amount_eur": e.amount_eur,
                "paid_at": e.paid_at,
            }
            return replace(
                s,
                payments=replace(
                    pay, paid_total_eur=e.paid_total_eur, instalments=(*pay.instalments, paid)
                ),
            )
        case FinalReportSubmitted():
            return replace(
                s,
                payments=replace(
                    pay,
                    final_report={
                        "justified_spending_eur": e.justified_spending_eur,
                        "submitted_at": e.submitted_at,
                    },
                ),
            )
        case DepartmentalOpinionGiven():
            return replace(
                s,
                payments=replace(
                    pay,
                    departmental_opinion={
                        "opinion": e.opinion.value,
                        "motivation": e.motivation,
                        "given_at": e.given_at,
                    },
                ),
            )
        case BalanceReleased():
            return replace(
                s,
                payments=replace(
                    pay,
                    paid_total_eur=e.paid_total_eur,
                    balance={
                        "outcome": "released",
                        "amount_eur": e.amount_eur,
                        "at": e.released_at,
                    },
                ),
            )
        case BalanceWithheld():
            return replace(
                s,
                payments=replace(
                    pay,
                    balance={
                        "outcome": "withheld",
                        "amount_eur": e.withheld_eur,
                        "motivation": e.motivation,
                        "at": e.withheld_at,
                    },
                ),
            )
    return s


def to_json(value: Any) -> Any:
    """The state as JSON: money and scores as exact strings, times in ISO 8601."""
    if isinstance(value, DossierAsOf | Payments):
        return {f: to_json(getattr(value, f)) for f in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value
