"""Numbers and yes-or-no of a JSON body are read as the schema says them: an integer (3, or
3.0) and true or false, never a string or a boolean that pydantic's lax reading would turn
into one (the fuzzing found a score of "0" taken)."""

import pytest
from pydantic import ValidationError

from services.payments.api import ActivityReport
from shared.contracts.selection import Scores

SCORES = dict.fromkeys(
    ("adequacy", "innovation", "team_competence", "methodology", "partnership"), 3
)


@pytest.mark.parametrize("written", ["3", True, "3.0", None, [3]])
def test_a_score_written_otherwise_than_as_a_number_is_refused_naming_it(written: object):
    with pytest.raises(ValidationError) as refused:
        Scores(**SCORES, prefecture_opinion=written)
    assert refused.value.errors()[0]["loc"] == ("prefecture_opinion",)


@pytest.mark.parametrize(("written", "read"), [(3, 3), (3.0, 3), (0, 0)])
def test_a_score_written_as_an_integral_number_is_read(written: object, read: int):
    assert Scores(**SCORES, prefecture_opinion=written).prefecture_opinion == read


@pytest.mark.parametrize("written", ["true", 1, 0, "yes"])
def test_a_yes_or_no_written_otherwise_than_true_or_false_is_refused(written: object):
    with pytest.raises(ValidationError) as refused:
        ActivityReport(summary="Bilan", spent_to_date_eur="10.00", instalment_asked=written)
    assert refused.value.errors()[0]["type"] == "not_a_boolean"
