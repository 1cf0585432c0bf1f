"""Exact money, SIREN, département codes and the shape of a dossier."""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.contracts.applications import Dossier
from shared.contracts.values import Euros
from tests.factories import eligible_dossier

EUROS = TypeAdapter(Euros)


def _refusal(payload: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        Dossier.model_validate(payload)
    return caught.value.errors()[0]


# --- money -------------------------------------------------------------------------------


def test_an_amount_given_as_a_string_is_quantized_to_cents():
    # given an amount written without cents
    # when it is read
    amount = EUROS.validate_python("1200")
    # then it is exactly 1200.00
    assert amount == Decimal("1200.00")
    assert amount.as_tuple().exponent == -2


def test_an_amount_given_as_an_integer_is_quantized_to_cents():
    amount = EUROS.validate_python(1200)
    assert amount == Decimal("1200.00")
    assert amount.as_tuple().exponent == -2


def test_an_amount_with_one_decimal_is_quantized_to_cents():
    amount = EUROS.validate_python("1200.5")
    assert str(amount) == "1200.50"


def test_a_float_amount_is_refused_with_a_message_about_exactness():
    with pytest.raises(ValidationError) as caught:
        EUROS.validate_python(1200.5)
    assert "exact" in caught.value.errors()[0]["msg"]


def test_a_whole_number_written_as_a_float_is_that_many_euros_exactly():
    # JSON Schema counts 160000.0 as an integer, as the services' documents say amounts may be
    assert EUROS.validate_python(160000.0) == Decimal("160000.00")


def test_a_float_amount_in_a_dossier_is_refused_at_its_field():
    error = _refusal(eligible_dossier(requested_eur=160000.5))
    assert error["loc"] == ("requested_eur",)
    assert "exact" in error["msg"]


def test_a_negative_amount_is_refused():
    with pytest.raises(ValidationError) as caught:
        EUROS.validate_python("-1.00")
    assert "negative" in caught.value.errors()[0]["msg"]


def test_a_negative_budget_line_in_a_dossier_is_refused():
    payload = eligible_dossier()
    payload["budget"]["lines"][0]["amount_eur"] = "-45000.00"
    error = _refusal(payload)
    assert error["loc"] == ("budget", "lines", 0, "amount_eur")


def test_an_amount_with_three_decimals_is_refused():
    with pytest.raises(ValidationError) as caught:
        EUROS.validate_python("1200.005")
    assert "two decimals" in caught.value.errors()[0]["msg"]


def test_an_amount_that_is_not_a_number_is_refused():
    with pytest.raises(ValidationError):
        EUROS.validate_python("douze cents")


def test_a_boolean_is_not_an_amount():
    with pytest.raises(ValidationError):
        EUROS.validate_python(True)


def test_an_infinite_amount_is_refused():
    with pytest.raises(ValidationError):
        EUROS.validate_python("Infinity")


def test_amounts_are_serialised_as_strings_with_two_decimals_in_json():
    # given a dossier whose request is written without cents
    dossier = Dossier.model_validate(eligible_dossier(requested_eur="1200"))
    # when it is dumped as JSON
    document = dossier.model_dump(mode="json")
    # then every amount is a string with cents
    assert document["requested_eur"] == "1200.00"
    assert document["budget"]["total_cost_eur"] == "200000.00"
    assert document["budget"]["lines"][0]["amount_eur"] == "45000.00"


# --- SIREN ---------------------------------------------------------------------------------


def test_a_siren_with_a_correct_check_digit_is_accepted():
    # 217500016 is the Ville de Paris
    dossier = Dossier.model_validate(eligible_dossier(applicant__siren="217500016"))
    assert dossier.applicant.siren == "217500016"


@pytest.mark.parametrize("siren", ["217500017", "21750001", "2175000160", "21750001A", ""])
def test_a_siren_with_a_wrong_check_digit_or_shape_is_refused(siren):
    error = _refusal(eligible_dossier(applicant__siren=siren))
    assert error["loc"] == ("applicant", "siren")
    assert "SIREN" in error["msg"]


# --- départements --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["2A", "2B", "974", "976", "01", "95"])
def test_a_known_departement_code_is_accepted(code):
    dossier = Dossier.model_validate(eligible_dossier(applicant__departement=code))
    assert dossier.applicant.departement == code


def test_a_corsican_code_in_lower_case_is_normalised():
    dossier = Dossier.model_validate(eligible_dossier(applicant__departement="2a"))
    assert dossier.applicant.departement == "2A"


@pytest.mark.parametrize("code", ["20", "99", "975", "00", "96", "1"])
def test_an_unknown_departement_code_is_refused(code):
    error = _refusal(eligible_dossier(applicant__departement=code))
    assert error["loc"] == ("applicant", "departement")
    assert "département" in error["msg"]


# --- shape of a dossier --------------------------------------------------------------------


def test_the_eligible_factory_dossier_is_a_valid_dossier():
    Dossier.model_validate(eligible_dossier())


def test_a_missing_request_is_refused_naming_the_field():
    payload = eligible_dossier()
    del payload["requested_eur"]
    error = _refusal(payload)
    assert error["loc"] == ("requested_eur",)
    assert error["type"] == "missing"


def test_a_missing_nested_field_is_refused_naming_its_path():
    payload = eligible_dossier()
    del payload["applicant"]["siren"]
    error = _refusal(payload)
    assert error["loc"] == ("applicant", "siren")
    assert error["type"] == "missing"


def test_an_unknown_objective_is_refused():
    error = _refusal(eligible_dossier(project__objectives=["prevent_entry", "win_elections"]))
    assert error["loc"] == ("project", "objectives", 1)


def test_a_dossier_without_objective_is_refused():
    error = _refusal(eligible_dossier(project__objectives=[]))
    assert error["loc"] == ("project", "objectives")


def test_an_extra_field_is_refused():
    payload = eligible_dossier()
    payload["lobbying"] = "please"
    error = _refusal(payload)
    assert error["loc"] == ("lobbying",)
    assert error["type"] == "extra_forbidden"


def test_an_extra_nested_field_is_refused():
    payload = eligible_dossier()
    payload["applicant"]["qpv"] = True
    error = _refusal(payload)
    assert error["loc"] == ("applicant", "qpv")


def test_an_invalid_representative_email_is_refused():
    error = _refusal(eligible_dossier(representative__email="not-an-email"))
    assert error["loc"] == ("representative", "email")
