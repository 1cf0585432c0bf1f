"""A text's schema says what its rule does: a client that trusts the published pattern (read by
a JSON Schema validator, as schemathesis and the integrators' tools read it) sends nothing the
service refuses, and nothing the service takes is called invalid."""

import re

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from shared.contracts.values import BLANK, TEXT_PATTERN, Text

TEXT = TypeAdapter(Text)
SCHEMA = jsonschema_rs.validator_for(TEXT.json_schema())


def taken(value: str) -> bool:
    try:
        TEXT.validate_python(value)
    except ValidationError:
        return False
    return True


CHARACTERS = [chr(c) for c in range(0x3100)] + ["\ufeff", "\ufffd", "é", "\U0001f600"]


@pytest.mark.parametrize("shape", ["{c}", "a{c}", "{c}{c}", "{c}a{c}"])
def test_the_pattern_of_a_text_refuses_exactly_what_its_rule_refuses(shape: str):
    disagree = [
        value
        for value in (shape.format(c=c) for c in CHARACTERS)
        if not taken(value) == SCHEMA.is_valid(value) == bool(re.search(TEXT_PATTERN, value))
    ]
    assert not disagree, [f"U+{ord(v[-1]):04X} in {v!r}" for v in disagree[:10]]


def test_a_text_holding_a_nul_between_letters_is_refused_by_its_schema_too():
    assert not SCHEMA.is_valid("a\x00b")
    assert not taken("a\x00b")


@pytest.mark.parametrize("blank", list(BLANK))
def test_a_text_of_blanks_is_refused_and_blanks_around_a_text_are_dropped(blank: str):
    assert not SCHEMA.is_valid(blank * 3)
    assert TEXT.validate_python(f"{blank}avis favorable{blank}") == "avis favorable"
