"""Eligibility, checked on submission and again on each amendment: rules E1–E7 of the call
(DOMAIN.md), each returning its failure or None; an eligible dossier goes to its préfecture in
the same breath."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from services.selection.commands import CheckEligibility, RecheckEligibility
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.applications import BudgetCategory, Dossier, HolderKind, RepresentativeRole
from shared.contracts.selection import EligibilityChecked, FailedRule, PrefectureOpinionRequested
from shared.language.campaigns import Campaign

Rule = Callable[[Dossier, Campaign], FailedRule | None]

_HOLDERS = {
    HolderKind.commune: RepresentativeRole.maire,
    HolderKind.intercommunalite: RepresentativeRole.president,
}


def e1_holder_is_a_commune_or_intercommunality(d: Dossier, c: Campaign) -> FailedRule | None:
    if d.applicant.kind in _HOLDERS:
        return None
    return FailedRule(
        rule="E1",
        reason=f"the holder's kind is {d.applicant.kind.value!r}: "
        "the call is open to communes and intercommunalités only",
    )


def e2_represented_by_its_mayor_or_president(d: Dossier, c: Campaign) -> FailedRule | None:
    expected = _HOLDERS.get(d.applicant.kind)
    if expected is None or d.representative.role == expected:
        return None
    return FailedRule(
        rule="E2",
        reason=f"a {d.applicant.kind.value} is represented by its "
        f"{expected.value}, not by its {d.representative.role.value}",
    )


def e3_request_within_the_cap(d: Dossier, c: Campaign) -> FailedRule | None:
    if d.requested_eur <= c.cap_eur:
        return None
    return FailedRule(
        rule="E3",
        reason=f"the request of {d.requested_eur} EUR exceeds the cap of "
        f"{c.cap_eur} EUR over the whole project",
    )


def e4_lasts_two_to_three_years(d: Dossier, c: Campaign) -> FailedRule | None:
    months = d.project.duration_months
    if c.min_duration_months <= months <= c.max_duration_months:
        return None
    return FailedRule(
        rule="E4",
        reason=f"the project lasts {months} months: it must last "
        f"{c.min_duration_months} to {c.max_duration_months} months",
    )


def e5_funds_actions_not_structures(d: Dossier, c: Campaign) -> FailedRule | None:
    lines = [
        line.label for line in d.budget.lines if line.category == BudgetCategory.structure_operation
    ]
    if not lines:
        return None
    return FailedRule(
        rule="E5",
        reason="the call funds actions, not the operation of structures: "
        + ", ".join(repr(label) for label in lines),
    )


def e6_no_permanent_posts(d: Dossier, c: Campaign) -> FailedRule | None:
    years = -(-d.project.duration_months // 12)
    wrong = [
        line.label
        for line in d.budget.lines
        if line.category == BudgetCategory.personnel and (line.permanent_post or line.year > years)
    ]
    if not wrong:
        return None
    return FailedRule(
        rule="E6",
        reason="personnel must be tied to the project and its duration; "
        "permanent or outlasting posts: " + ", ".join(repr(label) for label in wrong),
    )


def e7_budget_adds_up(d: Dossier, c: Campaign) -> FailedRule | None:
    total = sum((line.amount_eur for line in d.budget.lines), Decimal("0.00"))
    problems = []
    if total != d.budget.total_cost_eur:
        problems.append(
            f"the budget lines add up to {total} EUR, not the declared total "
            f"{d.budget.total_cost_eur} EUR"
        )
    if d.requested_eur > d.budget.total_cost_eur:
        problems.append(
            f"the request of {d.requested_eur} EUR exceeds the project's total cost "
            f"of {d.budget.total_cost_eur} EUR"
        )
    return FailedRule(rule="E7", reason="; ".join(problems)) if problems else None


RULES: tuple[Rule, ...] = (
    e1_holder_is_a_commune_or_intercommunality,
    e2_represented_by_its_mayor_or_president,
    e3_request_within_the_cap,
    e4_lasts_two_to_three_years,
    e5_funds_actions_not_structures,
    e6_no_permanent_posts,
    e7_budget_adds_up,
)


def failed_rules(dossier: Dossier, campaign: Campaign) -> list[FailedRule]:
    return [failure for rule in RULES if (failure := rule(dossier, campaign)) is not None]


def check(state: SelectionState, c: CheckEligibility) -> list[DomainEvent]:
    """Check rules E1–E7; an eligible dossier goes, in the same breath, to its préfecture."""
    if state.checked is not None:  # a second delivery of the same dossier changes nothing
        return []
    s = c.submitted
    return _checked(
        s.dossier_id,
        s.reference,
        s.campaign_id,
        s.dossier,
        c.campaign,
        c.now,
        asked_before=False,
        withdrawn=c.withdrawn,
    )


def recheck(state: SelectionState, c: RecheckEligibility) -> list[DomainEvent]:
    """The amended dossier checked again: its préfecture is asked if it was not already (the
    dossier was ineligible before), and nothing is checked after the decision."""
    a = c.amended
    before = state.checked
    if before is None or before.after_amendment == a.request_id or state.decision is not None:
        return []
    return _checked(
        a.dossier_id,
        a.reference,
        a.campaign_id,
        a.dossier,
        c.campaign,
        c.now,
        asked_before=before.eligible,
        withdrawn=c.withdrawn,
        amendment=a.request_id,
    )


def _checked(
    dossier_id: UUID,
    reference: str,
    campaign_id: str,
    dossier: Dossier,
    campaign: Campaign,
    now: datetime,
    *,
    asked_before: bool,
    withdrawn: bool,
    amendment: UUID | None = None,
) -> list[DomainEvent]:
    failures = failed_rules(dossier, campaign)
    checked = EligibilityChecked(
        dossier_id=dossier_id,
        reference=reference,
        campaign_id=campaign_id,
        eligible=not failures,
        failed_rules=failures,
        checked_at=now,
        siren=dossier.applicant.siren,
        applicant_name=dossier.applicant.name,
        departement=dossier.applicant.departement,
        requested_eur=dossier.requested_eur,
        objectives=dossier.project.objectives,
        duration_months=dossier.project.duration_months,
        after_amendment=amendment,
    )
    # no préfecture is asked about a dossier already withdrawn, nor twice
    if failures or withdrawn or asked_before:
        return [checked]
    requested = PrefectureOpinionRequested(
        dossier_id=dossier_id,
        reference=reference,
        campaign_id=campaign_id,
        departement=dossier.applicant.departement,
        requested_at=now,
        due_at=now + timedelta(days=campaign.deadlines.opinion_days),
    )
    return [checked, requested]
