"""Value types shared by the contracts: exact money, free text, SIREN, département code.

Each refusal has a kind of its own (`amount_negative`, `text_empty`, `siren_invalid`, …): the
422 answers name it beside the field and the reason, so that a client (the console) can say it
in its own words."""

import re
from decimal import Decimal
from typing import Annotated, Any, NoReturn
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    validate_email,
)
from pydantic_core import PydanticCustomError

from shared.language.attachments import AttachmentKind
from shared.language.referentials import DEPARTEMENTS, siren_is_valid

CENT = Decimal("0.01")


def refuse(kind: str, reason: str, **context: str | int) -> NoReturn:
    """Refuse a value: its kind (stable, for clients), the reason in words, what it depends on."""
    raise PydanticCustomError(kind, reason, context)  # placeholders only of `context`


_NUMBERS = (int, float, Decimal)


def json_number(value: Any) -> Any:
    # Read as written: pydantic would take "3" or true for 3 or 1, which the schema refuses.
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        refuse("not_a_number", "write a number (a JSON number: not a string, nor true or false)")
    return value


def _json_boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        refuse("not_a_boolean", "write true or false (not a string, nor a number)")
    return value


# A whole number and a yes or no, of a JSON body as the schema says them: integral numbers
# (3 or 3.0) and true or false, nothing pydantic's lax reading would turn into one.
WholeNumber = Annotated[int, BeforeValidator(json_number)]
Boolean = Annotated[bool, BeforeValidator(_json_boolean)]


# Every amount column is NUMERIC(12, 2): ten digits of euros, two of cents.
MAX_EUROS = Decimal("9999999999.99")
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
_EXAMPLE = 'a string of digits with at most two decimals, e.g. "1200.50"'


def _exact_amount(value: Any) -> Any:
    """The amount as a Decimal of two places, or the reason it is none: said in words, never a
    server error. Anything but a number or a string goes on to the Decimal type's refusal."""
    if isinstance(value, str) and _AMOUNT.match(value):
        return Decimal(value).quantize(CENT)  # the pattern says: whole, ≤ 10 digits, ≤ 2 places
    if isinstance(value, float):
        if value.is_integer():  # 1200.0 is a whole number of euros, exactly
            return _two_places(Decimal(int(value)))
        refuse("amount_inexact", f"amounts are exact: give {_EXAMPLE}, not a floating-point number")
    if isinstance(value, bool):
        refuse("amount_invalid", "an amount is a number of euros, not a boolean")
    if isinstance(value, int):
        return _two_places(Decimal(value))
    if isinstance(value, Decimal):
        return _two_places(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-") and _AMOUNT.match(text[1:]):
            refuse("amount_negative", "an amount cannot be negative")
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
            refuse("amount_cents", "an amount has at most two decimals (cents)")
        if re.fullmatch(r"[0-9]{11,}(\.[0-9]*)?", text):
            refuse(
                "amount_too_large", f"an amount is at most {MAX_EUROS} EUR", max_eur=str(MAX_EUROS)
            )
        refuse("amount_invalid", f"{value[:40]!r} is not an amount in euros: give {_EXAMPLE}")
    return value


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        refuse("amount_invalid", "an amount must be finite")
    if value < 0:
        refuse("amount_negative", "an amount cannot be negative")
    if value > MAX_EUROS:
        refuse("amount_too_large", f"an amount is at most {MAX_EUROS} EUR", max_eur=str(MAX_EUROS))
    if value != value.quantize(CENT):
        refuse("amount_cents", "an amount has at most two decimals (cents)")
    return value.quantize(CENT)


# What a client may send, and what the services send back: a string of euros and cents (or a
# whole number of euros), never a floating-point number.
_AMOUNT_IN = {
    "anyOf": [
        {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["1200.50"]},
        {"type": "integer", "minimum": 0, "maximum": int(MAX_EUROS)},
    ],
    "description": "euros, exact: a string with at most two decimals (or whole euros)",
}
_AMOUNT_OUT = {"type": "string", "pattern": r"^[0-9]{1,10}\.[0-9]{2}$", "examples": ["1200.50"]}

Euros = Annotated[
    Decimal,
    BeforeValidator(_exact_amount),  # one call: the amount read and checked
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(_AMOUNT_IN, mode="validation"),
    WithJsonSchema(_AMOUNT_OUT, mode="serialization"),
]
# A committee's weighted score (0.00 to 5.00): exact, like money, for a ranking that never wobbles.
Points = Euros

# Free text a person writes: something to read (not only blanks), no NUL character (which no
# database stores), of a bounded length; blanks around it are dropped. Blank is what Python's
# `str.isspace` says and what a JSON Schema's `\s` says (the byte-order mark), spelled out so
# that the schema and the rule refuse the same texts whatever regex engine reads the pattern.
BLANK = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_BLANK_CLASS = "".join(f"\\u{ord(c):04x}" for c in BLANK)  # read alike by every engine
TEXT_PATTERN = rf"^[^\x00]*[^\x00{_BLANK_CLASS}][^\x00]*$"


def _written(value: str) -> str:
    if "\x00" in value:
        refuse("text_nul", "a text cannot contain the NUL character (\\u0000)")
    text = value.strip(BLANK)
    if not text:
        refuse("text_empty", "write something: this text cannot be empty or only spaces")
    return text


def text(max_length: int) -> Any:
    """A text of at most `max_length` characters as written (the schema's maxLength)."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(_written),
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": TEXT_PATTERN},
            mode="validation",
        ),
    ]


Text = text(2000)
ShortText = text(200)
Motivation = text(4000)
Source = text(500)  # where a figure comes from: the survey, its year, its table
Person = text(320)  # a person as the identity provider names them: an e-mail address
Minutes = text(20000)  # a committee session's minutes


def _siren(value: str) -> str:
    if not siren_is_valid(value):
        refuse("siren_invalid", "not a valid SIREN: nine digits with a correct check digit (Luhn)")
    return value


# Corsica's codes are also read in lower case, and written in upper case.
_DEPARTEMENT_CODES = sorted(DEPARTEMENTS | {"2a", "2b"})


def _departement(value: str) -> str:
    code = value.upper()
    if code not in DEPARTEMENTS:
        refuse(
            "departement_unknown",
            f"unknown département code {value[:10]!r} (e.g. '13', '2A', '974')",
        )
    return code


Siren = Annotated[
    str,
    AfterValidator(_siren),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{9}$",
            "examples": ["213186091"],
            "description": "nine digits, the last one a Luhn check digit",
        }
    ),
]
DepartementCode = Annotated[
    str,
    AfterValidator(_departement),
    WithJsonSchema({"type": "string", "enum": _DEPARTEMENT_CODES, "examples": ["59"]}),
]


# The context in which an event is read back from its log (the store or a topic): what was
# checked when it was written, normalized since, is not checked again where that is costly.
RECORDED: dict[str, bool] = {"recorded": True}


def _email(value: str, info: ValidationInfo) -> str:
    if info.context is not None and info.context.get("recorded"):
        return value  # normalized when written: an address's IDNA check is the costliest rule
    return validate_email(value)[1]  # pydantic's own reading, as EmailStr's


# An e-mail address, as pydantic's EmailStr reads it (email-validator, normalized), except
# read back from the log, where it was validated and normalized when written.
Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]


class Attachment(BaseModel):
    """A file the dossier carries: what it is, never its bytes (kept once, by their SHA-256, in
    the service's store; the hash chain covers the hash, a download checks it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attachment_id: UUID
    kind: AttachmentKind
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")
    media_type: str
    size: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
