"""Public referentials the dossiers are checked against: SIREN and the départements."""

import re

_SIREN = re.compile(r"^\d{9}$")


def siren_is_valid(siren: str) -> bool:
    """A SIREN is nine digits whose Luhn checksum is 0 (INSEE)."""
    if not _SIREN.match(siren):
        return False
    total = 0
    for index, char in enumerate(reversed(siren)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


_METROPOLE = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
_OUTRE_MER = ["971", "972", "973", "974", "976"]
DEPARTEMENTS: frozenset[str] = frozenset(_METROPOLE + _OUTRE_MER)
