"""Value types shared by the contracts: exact money, SIREN, département code."""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from shared.language.referentials import DEPARTEMENTS, siren_is_valid

CENT = Decimal("0.01")


def _exact_amount(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError(
            'amounts are exact: give a string with at most two decimals (e.g. "1200.50"), '
            "not a floating-point number"
        )
    if isinstance(value, bool):
        raise ValueError("an amount is a number of euros, not a boolean")
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount in euros") from None
    return value


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("an amount must be finite")
    if value < 0:
        raise ValueError("an amount cannot be negative")
    if value != value.quantize(CENT):
        raise ValueError("an amount has at most two decimals (cents)")
    return value.quantize(CENT)


Euros = Annotated[
    Decimal,
    BeforeValidator(_exact_amount),
    AfterValidator(_two_places),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]
# A committee's weighted score (0.00 to 5.00): exact, like money, for a ranking that never wobbles.
Points = Euros


def _siren(value: str) -> str:
    if not siren_is_valid(value):
        raise ValueError("not a valid SIREN: nine digits with a correct check digit (Luhn)")
    return value


def _departement(value: str) -> str:
    code = value.strip().upper()
    if code not in DEPARTEMENTS:
        raise ValueError(f"unknown département code {value!r} (e.g. '13', '2A', '974')")
    return code


Siren = Annotated[str, AfterValidator(_siren)]
DepartementCode = Annotated[str, AfterValidator(_departement)]
