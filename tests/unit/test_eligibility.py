"""Eligibility rules E1–E7 of the 2024 call, each pinned at its boundaries."""

from typing import Any

import pytest

from services.selection.eligibility import failed_rules
from shared.contracts.applications import Dossier
from shared.language.campaigns import Campaign, load_campaigns
from tests.factories import dossier_failing_several_rules, eligible_dossier


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaigns()["mildeca-2024"]


def rules_failed_by(payload: dict[str, Any], campaign: Campaign) -> list[str]:
    return [f.rule for f in failed_rules(Dossier.model_validate(payload), campaign)]


def a_dossier_costing(total: str, requested: str) -> dict[str, Any]:
    """The eligible dossier, its last line raised so the lines add up to `total`."""
    payload = eligible_dossier(requested_eur=requested)
    lines = payload["budget"]["lines"]
    others = sum(int(line["amount_eur"].split(".")[0]) for line in lines[:-1])
    lines[-1]["amount_eur"] = f"{int(total.split('.')[0]) - others}.00"
    payload["budget"]["total_cost_eur"] = total
    return payload


def test_the_eligible_factory_dossier_passes_every_rule(campaign):
    assert rules_failed_by(eligible_dossier(), campaign) == []


# --- E1 holder -----------------------------------------------------------------------------


def test_an_association_fails_E1(campaign):
    payload = eligible_dossier(applicant__kind="association")
    assert rules_failed_by(payload, campaign) == ["E1"]


@pytest.mark.parametrize("kind", ["departement", "region", "other"])
def test_a_holder_other_than_a_commune_or_intercommunality_fails_E1(campaign, kind):
    assert "E1" in rules_failed_by(eligible_dossier(applicant__kind=kind), campaign)


# --- E2 representative --------------------------------------------------------------------


def test_a_commune_represented_by_its_maire_passes_E2(campaign):
    assert rules_failed_by(eligible_dossier(representative__role="maire"), campaign) == []


def test_a_commune_represented_by_an_adjoint_fails_E2(campaign):
    payload = eligible_dossier(representative__role="adjoint")
    assert rules_failed_by(payload, campaign) == ["E2"]


def test_an_intercommunality_represented_by_its_president_passes(campaign):
    payload = eligible_dossier(applicant__kind="intercommunalite", representative__role="president")
    assert rules_failed_by(payload, campaign) == []


def test_an_intercommunality_represented_by_a_vice_president_fails_E2(campaign):
    payload = eligible_dossier(
        applicant__kind="intercommunalite", representative__role="vice_president"
    )
    assert rules_failed_by(payload, campaign) == ["E2"]


def test_an_intercommunality_represented_by_a_maire_fails_E2(campaign):
    payload = eligible_dossier(applicant__kind="intercommunalite", representative__role="maire")
    assert rules_failed_by(payload, campaign) == ["E2"]


# --- E3 cap --------------------------------------------------------------------------------


def test_a_request_at_the_240000_eur_cap_passes(campaign):
    payload = a_dossier_costing("300000.00", requested="240000.00")
    assert rules_failed_by(payload, campaign) == []


def test_a_request_above_the_240000_eur_cap_fails_E3(campaign):
    payload = a_dossier_costing("300000.00", requested="240000.01")
    assert rules_failed_by(payload, campaign) == ["E3"]


# --- E4 duration ---------------------------------------------------------------------------


@pytest.mark.parametrize("months", [24, 30, 36])
def test_a_project_of_24_to_36_months_passes_E4(campaign, months):
    assert rules_failed_by(eligible_dossier(project__duration_months=months), campaign) == []


@pytest.mark.parametrize("months", [23, 37])
def test_a_project_shorter_than_24_or_longer_than_36_months_fails_E4(campaign, months):
    payload = eligible_dossier(project__duration_months=months)
    assert rules_failed_by(payload, campaign) == ["E4"]


# --- E5 structures -------------------------------------------------------------------------


def test_a_structure_operation_line_fails_E5(campaign):
    payload = eligible_dossier()
    payload["budget"]["lines"][3]["category"] = "structure_operation"
    assert rules_failed_by(payload, campaign) == ["E5"]


# --- E6 permanent posts --------------------------------------------------------------------


def test_a_permanent_personnel_post_fails_E6(campaign):
    payload = eligible_dossier()
    payload["budget"]["lines"][0]["permanent_post"] = True
    assert rules_failed_by(payload, campaign) == ["E6"]


def test_a_personnel_line_in_the_projects_last_year_passes_E6(campaign):
    payload = eligible_dossier(project__duration_months=36)
    payload["budget"]["lines"][0]["year"] = 3
    assert rules_failed_by(payload, campaign) == []


def test_a_personnel_line_in_a_year_after_the_projects_end_fails_E6(campaign):
    # given a 24-month project, i.e. two years
    payload = eligible_dossier(project__duration_months=24)
    # when its coordinator is paid in year 3
    payload["budget"]["lines"][0]["year"] = 3
    # then the post outlasts the project
    assert rules_failed_by(payload, campaign) == ["E6"]


def test_a_non_personnel_line_marked_permanent_is_not_a_post(campaign):
    payload = eligible_dossier()
    payload["budget"]["lines"][1]["permanent_post"] = True
    assert rules_failed_by(payload, campaign) == []


# --- E7 budget -----------------------------------------------------------------------------


def test_budget_lines_not_adding_up_to_the_total_fail_E7(campaign):
    payload = eligible_dossier(budget__total_cost_eur="200000.01")
    assert rules_failed_by(payload, campaign) == ["E7"]


def test_a_request_equal_to_the_total_cost_passes_E7(campaign):
    payload = eligible_dossier(requested_eur="200000.00")
    assert rules_failed_by(payload, campaign) == []


def test_a_request_above_the_total_cost_fails_E7(campaign):
    payload = eligible_dossier(requested_eur="200000.01")
    assert rules_failed_by(payload, campaign) == ["E7"]


# --- several rules -------------------------------------------------------------------------


def test_a_dossier_failing_several_rules_reports_every_one_with_a_reason(campaign):
    # given an association asking too much, too briefly, for itself, with a permanent post
    dossier = Dossier.model_validate(dossier_failing_several_rules())
    # when it is checked
    failures = failed_rules(dossier, campaign)
    # then every failed rule is reported, each with its reason
    assert [f.rule for f in failures] == ["E1", "E3", "E4", "E5", "E6", "E7"]
    assert all(f.reason.strip() for f in failures)
