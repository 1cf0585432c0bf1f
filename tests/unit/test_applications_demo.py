"""The demo's dossier: well formed, eligible, and filed under a new valid SIREN each time."""

from decimal import Decimal

from cli.demo import GRANTED, demo_dossier, random_siren
from services.selection.eligibility import failed_rules
from shared.contracts.applications import Dossier
from shared.language.campaigns import load_campaigns
from shared.language.referentials import siren_is_valid


def test_the_demo_files_under_a_valid_siren_of_a_public_body():
    sirens = {random_siren() for _ in range(50)}
    assert all(siren_is_valid(s) and s.startswith("2") for s in sirens)
    assert len(sirens) > 1


def test_the_demo_dossier_is_eligible_in_the_demo_campaign():
    # given the dossier the demo files, under a fresh SIREN
    siren = random_siren()
    dossier = Dossier.model_validate(demo_dossier(siren))
    # then it is well formed, filed under that SIREN, and passes every rule E1–E7
    assert dossier.applicant.siren == siren
    assert failed_rules(dossier, load_campaigns()["demo"]) == []


def test_the_demo_grants_no_more_than_requested_nor_more_than_the_project_costs():
    dossier = Dossier.model_validate(demo_dossier(random_siren()))
    assert Decimal(GRANTED) <= dossier.requested_eur <= dossier.budget.total_cost_eur
