"""How one answer of a DS dossier becomes one value of aap's dossier: read, then convert.

A reader takes what a converter needs from a champ as DossierFields returns it (documents.graphql);
a converter turns that into aap's vocabulary or refuses it with a stable kind and a reason that
quotes the value. Pure: no I/O, no clock."""

import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal, get_args

from shared.language.referentials import DEPARTEMENTS, siren_is_valid

Converter = Literal[
    "text",
    "email",
    "euros",
    "integer",
    "boolean",
    "choice",
    "choices",
    "siren_of_siret",
    "departement",
]
CONVERTERS: tuple[str, ...] = get_args(Converter)

# What a choice's label may become in aap's dossier (an enum's value, a year).
Choice = str | int | bool


class Refusal(Exception):
    """One answer refused: its kind (stable, for clients) and the reason, the value quoted."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


def quoted(value: object, limit: int = 60) -> str:
    """A value as a reason quotes it: in double quotes, cut after `limit` characters."""
    text = str(value)
    return f'"{text[:limit]}…"' if len(text) > limit else f'"{text}"'


def normalised(label: str) -> str:
    """A label as it is compared: NFC (DS may send decomposed accents), without outer spaces."""
    return unicodedata.normalize("NFC", label).strip()


# --- readers: what a converter takes from a champ -------------------------------------------


def read(converter: Converter, champ: Mapping[str, Any]) -> Any:
    """The raw answer a converter reads in a champ: its typed alias where DossierFields asks
    for one that can be trusted, else its `stringValue` (an amount: always its text, never the
    float `decimal`)."""
    string = champ.get("stringValue")
    if converter == "integer":
        return champ["integer"] if champ.get("integer") is not None else string
    if converter == "boolean":
        for alias in ("checked", "yes"):
            if champ.get(alias) is not None:
                return champ[alias]
        return string
    if converter == "choice":
        return champ["choice"] if champ.get("choice") is not None else string
    if converter == "choices":
        return _listed(champ)
    if converter == "departement":
        return _place(champ)
    return string


def _listed(champ: Mapping[str, Any]) -> Any:
    if "values" not in champ:
        raise Refusal(
            "champ_type_mismatch",
            f"a multiple choice is read from a MultipleDropDownListChamp's values, and this "
            f"champ is a {champ.get('__typename')}",
        )
    return champ["values"]


def _place(champ: Mapping[str, Any]) -> Any:
    """An AddressChamp's address, or a CommuneChamp's / DepartementChamp's codes, in the shape
    of a demandeur's address; a champ of another type gives its text."""
    if isinstance(champ.get("address"), dict):
        return champ["address"]
    departement = champ.get("departement") or {}
    commune = champ.get("commune") or {}
    if departement or commune:
        return {"departmentCode": departement.get("code"), "cityCode": commune.get("code")}
    return champ.get("stringValue")


def is_empty(value: Any) -> bool:
    """Nothing answered: no value, only spaces, an empty list, an address without codes."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not value
    if isinstance(value, dict):
        return all(is_empty(value.get(key)) for key in ("departmentCode", "cityCode"))
    return False


# --- converters -----------------------------------------------------------------------------


def _text(value: Any, values: Mapping[str, Choice]) -> str:
    """A text: trimmed, in NFC; its length and form are `Dossier`'s to check."""
    if isinstance(value, dict | list):
        raise Refusal("champ_type_mismatch", f"a text was expected, not {quoted(value)}")
    return normalised(str(value))


_AMOUNT = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")


def _euros(value: Any, values: Mapping[str, Choice]) -> Decimal:
    """An amount, from its text only: `,` or `.` before the cents, spaces around it, at most
    ten digits of euros and two of cents."""
    if not isinstance(value, str):
        raise Refusal("amount_invalid", f"an amount is read from its text, not {quoted(value)}")
    text = value.strip().replace(",", ".")
    if _AMOUNT.match(text):
        return Decimal(text)
    if text.startswith("-") and re.fullmatch(r"[0-9]+(\.[0-9]*)?", text[1:]):
        raise Refusal("amount_negative", f"an amount cannot be negative: {quoted(value)}")
    if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
        raise Refusal("amount_cents", f"an amount has at most two decimals: {quoted(value)}")
    if re.fullmatch(r"[0-9]{11,}(\.[0-9]*)?", text):
        raise Refusal("amount_too_large", f"an amount has at most ten digits: {quoted(value)}")
    raise Refusal("amount_invalid", f"not an amount in euros: {quoted(value)}")


def _integer(value: Any, values: Mapping[str, Choice]) -> int:
    """A whole number: DS sends a BigInt as a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
        return int(value.strip())
    raise Refusal("integer_invalid", f"not a whole number: {quoted(value)}")


_TRUE = {"true", "oui", "on", "1"}
_FALSE = {"false", "non", "off", "0"}


def _boolean(value: Any, values: Mapping[str, Choice]) -> bool:
    """A box ticked or a yes/no: the typed value, else "true"/"Oui" or "false"/"Non"."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise Refusal("boolean_invalid", f"neither yes nor no: {quoted(value)}")


def _choice(value: Any, values: Mapping[str, Choice]) -> Choice:
    """One label of the form, looked up in the mapping's `values` (NFC, trimmed)."""
    known = {normalised(label): target for label, target in values.items()}
    label = normalised(str(value))
    if label not in known:
        raise Refusal("choice_unknown", f"{quoted(label)} is not {_allowed(values)}")
    return known[label]


def _choices(value: Any, values: Mapping[str, Choice]) -> list[Choice]:
    """Several labels, each looked up as a choice; the order kept, a repeat dropped."""
    if not isinstance(value, list):
        raise Refusal("champ_type_mismatch", f"a list of labels was expected: {quoted(value)}")
    known = {normalised(label): target for label, target in values.items()}
    labels = [normalised(str(item)) for item in value]
    unknown = [label for label in labels if label not in known]
    if unknown:
        listed = ", ".join(quoted(label) for label in unknown)
        raise Refusal("choice_unknown", f"{listed}: not {_allowed(values)}")
    chosen = [known[label] for label in labels]
    return [target for index, target in enumerate(chosen) if target not in chosen[:index]]


def _allowed(values: Mapping[str, Choice]) -> str:
    return "one of the labels the mapping knows: " + ", ".join(quoted(v, 80) for v in values)


def siret_is_valid(siret: str) -> bool:
    """Fourteen digits whose Luhn sum is a multiple of 10 (La Poste's establishments, SIREN
    356000000, sum their digits to a multiple of 5 instead)."""
    if not re.fullmatch(r"[0-9]{14}", siret):
        return False
    if siret.startswith("356000000"):
        return sum(int(c) for c in siret) % 5 == 0
    total = 0
    for index, char in enumerate(reversed(siret)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _siren_of_siret(value: Any, values: Mapping[str, Choice]) -> str:
    """The SIREN of an establishment: the first nine digits of a valid SIRET, themselves a
    valid SIREN."""
    siret = str(value).strip()
    if not siret_is_valid(siret):
        raise Refusal(
            "siret_invalid",
            f"not a SIRET (14 digits with a correct check digit, Luhn): {quoted(value)}",
        )
    if not siren_is_valid(siret[:9]):
        raise Refusal(
            "siren_invalid",
            f"the SIRET {quoted(siret)} begins with {quoted(siret[:9])}, not a valid SIREN",
        )
    return siret[:9]


def _departement(value: Any, values: Mapping[str, Choice]) -> str:
    """The département: DS's `departmentCode`, else the start of the INSEE `cityCode` (three
    characters overseas, "97…"; else two, so "2A"/"2B" for Corsica)."""
    code, source = _code_of(value)
    if code not in DEPARTEMENTS:
        raise Refusal(
            "departement_unknown", f"{quoted(code)}{source} is not a code of a French département"
        )
    return code


def _code_of(value: Any) -> tuple[str, str]:
    if not isinstance(value, dict):
        return str(value).strip().upper(), ""
    given = str(value.get("departmentCode") or "").strip()
    if given:
        return given.upper(), ""
    city = str(value.get("cityCode") or "").strip().upper()
    return (city[:3] if city.startswith("97") else city[:2]), f" (from the INSEE code {city})"


CONVERT: dict[str, Callable[[Any, Mapping[str, Choice]], Any]] = {
    "text": _text,
    "email": _text,
    "euros": _euros,
    "integer": _integer,
    "boolean": _boolean,
    "choice": _choice,
    "choices": _choices,
    "siren_of_siret": _siren_of_siret,
    "departement": _departement,
}


def convert(converter: Converter, value: Any, values: Mapping[str, Choice]) -> Any:
    """The answer in aap's vocabulary, or a `Refusal`."""
    return CONVERT[converter](value, values)


# --- what each converter can read, by the type of the descriptor (DescribeDemarche) ---------

DESCRIPTOR_TYPES: dict[str, frozenset[str]] = {
    "text": frozenset(
        {
            "TextChampDescriptor",
            "TextareaChampDescriptor",
            "FormattedChampDescriptor",
            "EmailChampDescriptor",
            "PhoneChampDescriptor",
            "DropDownListChampDescriptor",  # its label, as free text
        }
    ),
    "email": frozenset({"EmailChampDescriptor", "TextChampDescriptor"}),
    "euros": frozenset({"DecimalNumberChampDescriptor", "IntegerNumberChampDescriptor"}),
    "integer": frozenset({"IntegerNumberChampDescriptor"}),
    "boolean": frozenset({"CheckboxChampDescriptor", "YesNoChampDescriptor"}),
    "choice": frozenset({"DropDownListChampDescriptor"}),
    "choices": frozenset({"MultipleDropDownListChampDescriptor"}),
    "siren_of_siret": frozenset({"SiretChampDescriptor", "TextChampDescriptor"}),
    "departement": frozenset(
        {"AddressChampDescriptor", "CommuneChampDescriptor", "DepartementChampDescriptor"}
    ),
    "rows": frozenset({"RepetitionChampDescriptor"}),
    "attachment": frozenset({"PieceJustificativeChampDescriptor"}),
}
