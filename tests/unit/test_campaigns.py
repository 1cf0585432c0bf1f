"""Campaigns are data, checked when read: a plan that does not add up never loads."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.language.campaigns import Campaign, load_campaigns


def edition(**changes):  # type: ignore[no-untyped-def]
    data = load_campaigns()["demo"].model_dump(mode="json")
    data.update(changes)
    return data


def test_the_shipped_editions_load():
    assert {"mildeca-2024", "demo"} <= set(load_campaigns())


def test_the_2024_conventions_are_signed_before_the_end_of_september_2024():
    deadline = load_campaigns()["mildeca-2024"].convention_deadline
    assert deadline.isoformat() == "2024-10-01T00:00:00+02:00"


def test_a_payment_plan_whose_shares_do_not_add_up_to_one_is_refused():
    plan = [
        {"label": "advance", "share": "0.5", "due_on": "signature"},
        {"label": "balance", "share": "0.4", "due_on": "balance"},
    ]
    with pytest.raises(ValidationError, match="add up to 1"):
        Campaign.model_validate(edition(payment_plan=plan))


def test_a_payment_plan_ends_with_the_balance():
    plan = [
        {"label": "balance", "share": "0.5", "due_on": "balance"},
        {"label": "advance", "share": "0.5", "due_on": "signature"},
    ]
    with pytest.raises(ValidationError, match="ends with the balance"):
        Campaign.model_validate(edition(payment_plan=plan))


def test_the_weights_cover_exactly_the_six_criteria():
    with pytest.raises(ValidationError, match="six criteria"):
        Campaign.model_validate(edition(criteria_weights={"adequacy": "1"}))


def test_an_operator_adds_an_edition_in_a_folder_of_its_own(tmp_path):
    import json

    (tmp_path / "next.json").write_text(json.dumps(edition(id="next", envelope_eur="5000000.00")))
    campaigns = load_campaigns(str(tmp_path))
    assert campaigns["next"].envelope_eur == Decimal("5000000.00")
    assert "demo" in campaigns
