"""Public referentials the dossiers are checked against: SIREN and the départements."""

import re

_SIREN = re.compile(r"[0-9]{9}")  # ASCII digits, as the schema's pattern says
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit doubled, its two digits summed


def siren_is_valid(siren: str) -> bool:
    """A SIREN is nine digits whose Luhn checksum is 0 (INSEE)."""
    if not _SIREN.fullmatch(siren):
        return False
    digits = [ord(c) - 48 for c in reversed(siren)]
    return (sum(digits[0::2]) + sum([_DOUBLED[d] for d in digits[1::2]])) % 10 == 0


_METROPOLE = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
_OUTRE_MER = ["971", "972", "973", "974", "976"]
DEPARTEMENTS: frozenset[str] = frozenset(_METROPOLE + _OUTRE_MER)
