"""A SIREN is nine ASCII digits whose Luhn checksum is 0."""

import pytest

from shared.language.referentials import siren_is_valid


@pytest.mark.parametrize("siren", ["213186091", "552100554", "732829320", "000000000"])
def test_nine_digits_of_a_correct_checksum_make_a_siren(siren):
    assert siren_is_valid(siren)


@pytest.mark.parametrize("siren", ["213186092", "552100555", "123456789"])
def test_a_wrong_check_digit_is_no_siren(siren):
    assert not siren_is_valid(siren)


@pytest.mark.parametrize(
    "siren",
    [
        "21318609",  # eight digits
        "2131860910",  # ten
        "213186091\n",  # a trailing line break
        " 213186091",
        "2131 86091",
        "\u0662\u0661\u0663\u0661\u0668\u0666\u0660\u0669\u0661",  # Arabic-Indic digits
        "２１３１８６０９１",  # full-width digits
        "",
    ],
)
def test_anything_but_nine_ascii_digits_is_no_siren(siren):
    assert not siren_is_valid(siren)


def test_every_check_digit_but_one_is_refused():
    assert [d for d in "0123456789" if siren_is_valid("21318609" + d)] == ["1"]
