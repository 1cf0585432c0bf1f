"""The 18 régions (INSEE codes and names since the 2016 reform) and the départements of each.

The 2013 circulars (seeds 000, 001) were written for the 27 régions of the time; the dotations
are computed on today's map: 13 metropolitan régions and 5 overseas, each overseas région one
département (INSEE, Code officiel géographique).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Region:
    code: str  # INSEE's: two digits, 01 to 94
    name: str
    departements: tuple[str, ...]

    @property
    def overseas(self) -> bool:
        return self.code < "10"


REGIONS: tuple[Region, ...] = (
    Region("01", "Guadeloupe", ("971",)),
    Region("02", "Martinique", ("972",)),
    Region("03", "Guyane", ("973",)),
    Region("04", "La Réunion", ("974",)),
    Region("06", "Mayotte", ("976",)),
    Region("11", "Île-de-France", ("75", "77", "78", "91", "92", "93", "94", "95")),
    Region("24", "Centre-Val de Loire", ("18", "28", "36", "37", "41", "45")),
    Region("27", "Bourgogne-Franche-Comté", ("21", "25", "39", "58", "70", "71", "89", "90")),
    Region("28", "Normandie", ("14", "27", "50", "61", "76")),
    Region("32", "Hauts-de-France", ("02", "59", "60", "62", "80")),
    Region("44", "Grand Est", ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")),
    Region("52", "Pays de la Loire", ("44", "49", "53", "72", "85")),
    Region("53", "Bretagne", ("22", "29", "35", "56")),
    Region(
        "75",
        "Nouvelle-Aquitaine",
        ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    ),
    Region(
        "76",
        "Occitanie",
        ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    ),
    Region(
        "84",
        "Auvergne-Rhône-Alpes",
        ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    ),
    Region("93", "Provence-Alpes-Côte d'Azur", ("04", "05", "06", "13", "83", "84")),
    Region("94", "Corse", ("2A", "2B")),
)

BY_CODE: Mapping[str, Region] = MappingProxyType({r.code: r for r in REGIONS})
# Every code of referentials.DEPARTEMENTS, each in one région (tests/unit/test_dotations.py).
REGION_OF: Mapping[str, Region] = MappingProxyType({d: r for r in REGIONS for d in r.departements})
REGION_CODES: tuple[str, ...] = tuple(r.code for r in REGIONS)
