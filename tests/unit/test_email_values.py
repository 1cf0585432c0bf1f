"""An e-mail address is read as pydantic's EmailStr reads it (email-validator, normalized) when it
comes in; read back from the log, where it was checked and normalized when written, it is not
checked again (its IDNA check was most of the cost of reading a filing)."""

import pytest
from pydantic import BaseModel, EmailStr, ValidationError

from shared.contracts.applications import Representative
from shared.contracts.values import RECORDED

WRITTEN = {"name": "Mme Durand", "role": "maire"}


class Reference(BaseModel):
    email: EmailStr


@pytest.mark.parametrize(
    "address", ["maire@ville.fr", "Maire@Ville.FR", "élu@mairie-évry.fr", "x@xn--mairie-vry-ebb.fr"]
)
def test_an_address_coming_in_is_normalized_as_emailstr_normalizes_it(address: str):
    ours = Representative.model_validate({**WRITTEN, "email": address}).email
    assert ours == Reference(email=address).email


@pytest.mark.parametrize("address", ["maire", "maire@", "@ville.fr", "a@b@c.fr", "maire@ville"])
def test_an_address_coming_in_that_is_none_is_refused_naming_the_field(address: str):
    with pytest.raises(ValidationError) as refused:
        Representative.model_validate({**WRITTEN, "email": address})
    error = refused.value.errors()[0]
    assert error["loc"] == ("email",)
    assert "not a valid email address" in error["msg"]


def test_an_address_read_back_from_the_log_is_taken_as_it_was_recorded():
    recorded = Representative.model_validate(
        {**WRITTEN, "email": "maire@ville.fr"}, context=RECORDED
    )
    assert recorded.email == "maire@ville.fr"


def test_a_value_read_back_from_the_log_is_still_a_string():
    with pytest.raises(ValidationError):
        Representative.model_validate({**WRITTEN, "email": 12}, context=RECORDED)


def test_the_published_schema_says_an_email_as_emailstr_does():
    assert Representative.model_json_schema()["properties"][
        "email"
    ] == Reference.model_json_schema()["properties"]["email"] | {"title": "Email"}
