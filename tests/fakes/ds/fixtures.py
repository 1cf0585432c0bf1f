"""The MILDECA 2024 démarche as Démarches Simplifiées (DS) would answer it: pure and deterministic.

`build_demarche()` gives the démarche (its active revision, its groupe instructeur) and `count`
dossiers filed by communes and intercommunalités, as plain dicts shaped like DS's GraphQL answers
(`__typename` on every champ, descriptor and demandeur; `BigInt`s as strings; dates as ISO 8601
strings in Europe/Paris with their offset). The server (`server.py`) serves them as they are: a
champ's `value` is already what DS sends. Only a `File`'s `url` is left out (a file carries its
`key`): the server builds it from the request's base URL.

The same (number, seed) always gives the same dossier, whatever `count` is: each dossier draws
from its own `random.Random`. The form's ids are the placeholders of
`shared/language/ds/mildeca-2024.json` (base64 of `Champ-<stable_id>`); the test file checks
that the two agree, label for label and option for option.
"""

import base64
import copy
import hashlib
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from shared.language.referentials import DEPARTEMENTS, siren_is_valid

PARIS = ZoneInfo("Europe/Paris")
DEMARCHE_NUMBER = 104857
DEMARCHE_TITLE = "Prévenir la participation des jeunes aux trafics de stupéfiants — 2024"
FIRST_DOSSIER_NUMBER = 20240001
INSTRUCTEUR_EMAIL = "instruction@mildeca.example"
REVISION_NUMBER = 3
FILED_FROM = datetime(2024, 2, 1, 8, 0, tzinfo=PARIS)
FILED_UNTIL = datetime(2024, 4, 29, 23, 0, tzinfo=PARIS)

Dossier = dict[str, Any]
Champ = dict[str, Any]


def gid(kind: str, key: object) -> str:
    """A DS GraphQL id: base64 of `<Kind>-<key>` (graphql-ruby's UniqueWithinType)."""
    return base64.b64encode(f"{kind}-{key}".encode()).decode()


def champ_id(stable_id: int, row_id: str | None = None) -> str:
    """A champ's id: its descriptor's for a root champ, `Champ-<stable_id>|<row_id>` in a row."""
    return gid("Champ", stable_id if row_id is None else f"{stable_id}|{row_id}")


INSTRUCTEUR_ID = gid("Profile", 1)
INSTRUCTEUR: dict[str, str] = {"id": INSTRUCTEUR_ID, "email": INSTRUCTEUR_EMAIL}

# --- the form -------------------------------------------------------------------------------

_CHAMP_OF_DESCRIPTOR = {
    "TextChampDescriptor": ("TextChamp", "text"),
    "TextareaChampDescriptor": ("TextChamp", "textarea"),
    "EmailChampDescriptor": ("TextChamp", "email"),
    "DropDownListChampDescriptor": ("DropDownListChamp", "drop_down_list"),
    "MultipleDropDownListChampDescriptor": ("MultipleDropDownListChamp", "multiple_drop_down_list"),
    "IntegerNumberChampDescriptor": ("IntegerNumberChamp", "integer_number"),
    "DecimalNumberChampDescriptor": ("DecimalNumberChamp", "decimal_number"),
    "CheckboxChampDescriptor": ("CheckboxChamp", "checkbox"),
    "RepetitionChampDescriptor": ("RepetitionChamp", "repetition"),
    "PieceJustificativeChampDescriptor": ("PieceJustificativeChamp", "piece_justificative"),
}


@dataclass(frozen=True)
class Descriptor:
    """One champ of the form (a `ChampDescriptor`), as the administrator built it on DS."""

    stable_id: int
    typename: str
    label: str
    required: bool = True
    options: tuple[str, ...] | None = None
    children: tuple["Descriptor", ...] = ()
    description: str | None = None

    @cached_property
    def id(self) -> str:
        return champ_id(self.stable_id)

    @property
    def champ_typename(self) -> str:
        """The `__typename` of the champs this descriptor gives (an e-mail is a `TextChamp`)."""
        return _CHAMP_OF_DESCRIPTOR[self.typename][0]

    def to_graphql(self) -> dict[str, Any]:
        """The descriptor as `activeRevision.champDescriptors` answers it."""
        node: dict[str, Any] = {
            "__typename": self.typename,
            "id": self.id,
            "label": self.label,
            "description": self.description,
            "required": self.required,
            "type": _CHAMP_OF_DESCRIPTOR[self.typename][1],
        }
        if self.options is not None:
            node["options"] = list(self.options)
            node["otherOption"] = False
        if self.typename == "RepetitionChampDescriptor":
            node["champDescriptors"] = [child.to_graphql() for child in self.children]
        return node


def _d(stable_id: int, typename: str, label: str, **kw: Any) -> Descriptor:
    return Descriptor(stable_id, typename, label, **kw)


ROLES_COMMUNE = ("Maire", "Adjoint(e) au maire")
ROLES_EPCI = ("Président(e)", "Vice-président(e)")
OBJECTIVES = (
    "Créer une dynamique partenariale et former les professionnels",
    "Prévenir l'entrée dans les réseaux de trafics",
    "Lutter contre l'image positive des réseaux et proposer des modèles alternatifs",
    "Mieux détecter les jeunes susceptibles de basculement et les accompagner",
    "Permettre une réappropriation de l'espace public",
)
YEARS = ("Année 1", "Année 2", "Année 3")
CATEGORIES = (
    "Actions",
    "Personnel dédié au projet",
    "Formation",
    "Communication",
    "Équipement",
    "Évaluation",
    "Fonctionnement de structure",
)

APPLICANT_NAME = champ_id(4100001)
REPRESENTATIVE_NAME = champ_id(4100002)
REPRESENTATIVE_ROLE = champ_id(4100003)
REPRESENTATIVE_EMAIL = champ_id(4100004)
COORDINATOR = champ_id(4100005)
PROJECT_TITLE = champ_id(4100010)
PROJECT_SUMMARY = champ_id(4100011)
PROJECT_TERRITORY = champ_id(4100012)
PROJECT_BENEFICIARIES = champ_id(4100013)
PROJECT_OBJECTIVES = champ_id(4100014)
PARTNERS = champ_id(4100015)
DURATION = champ_id(4100018)
BUDGET = champ_id(4100020)
BUDGET_AMOUNT_STABLE_ID = 4100024
TOTAL_COST = champ_id(4100026)
REQUESTED = champ_id(4100027)
ATTACHMENTS = {
    "deliberation": champ_id(4100030),
    "budget": champ_id(4100031),
    "bank_details": champ_id(4100032),
    "other": champ_id(4100033),
}
ANNOTATION_REFERENCE = champ_id(4200001)
ANNOTATION_GRANTED = champ_id(4200002)
# On the form, not in aap's Dossier: the mapping leaves it out (docs/ds-bridge.md §2).
UNMAPPED_CHAMP_IDS = frozenset({COORDINATOR})

FORM: tuple[Descriptor, ...] = (
    _d(4100001, "TextChampDescriptor", "Nom de la collectivité"),
    _d(4100002, "TextChampDescriptor", "Nom et prénom du signataire"),
    _d(
        4100003,
        "DropDownListChampDescriptor",
        "Qualité du signataire",
        options=ROLES_COMMUNE[:1] + ROLES_EPCI[:1] + ROLES_COMMUNE[1:] + ROLES_EPCI[1:],
    ),
    _d(4100004, "EmailChampDescriptor", "Courriel du signataire"),
    _d(4100005, "TextChampDescriptor", "Coordinateur du projet", required=False),
    _d(4100010, "TextChampDescriptor", "Intitulé du projet"),
    _d(4100011, "TextareaChampDescriptor", "Présentation du plan d'action"),
    _d(4100012, "TextareaChampDescriptor", "Territoire d'intervention"),
    _d(4100013, "TextareaChampDescriptor", "Publics bénéficiaires"),
    _d(4100014, "MultipleDropDownListChampDescriptor", "Finalités du projet", options=OBJECTIVES),
    _d(
        4100015,
        "RepetitionChampDescriptor",
        "Partenaires",
        required=False,
        children=(
            _d(4100016, "TextChampDescriptor", "Partenaire"),
            _d(4100017, "TextChampDescriptor", "Type de partenaire"),
        ),
    ),
    _d(4100018, "IntegerNumberChampDescriptor", "Durée (en mois)"),
    _d(
        4100020,
        "RepetitionChampDescriptor",
        "Budget prévisionnel",
        children=(
            _d(4100021, "DropDownListChampDescriptor", "Année", options=YEARS),
            _d(4100022, "DropDownListChampDescriptor", "Nature de la dépense", options=CATEGORIES),
            _d(4100023, "TextChampDescriptor", "Libellé"),
            _d(4100024, "DecimalNumberChampDescriptor", "Montant (€)"),
            _d(4100025, "CheckboxChampDescriptor", "Poste pérenne", required=False),
        ),
    ),
    _d(4100026, "DecimalNumberChampDescriptor", "Coût total du projet (€)"),
    _d(4100027, "DecimalNumberChampDescriptor", "Subvention sollicitée (€)"),
    _d(4100030, "PieceJustificativeChampDescriptor", "Délibération du conseil"),
    _d(4100031, "PieceJustificativeChampDescriptor", "Budget détaillé"),
    _d(4100032, "PieceJustificativeChampDescriptor", "RIB"),
    _d(4100033, "PieceJustificativeChampDescriptor", "Autres pièces", required=False),
)
ANNOTATION_FORM: tuple[Descriptor, ...] = (
    _d(4200001, "TextChampDescriptor", "Référence aap", required=False),
    _d(4200002, "TextChampDescriptor", "Montant accordé (€)", required=False),
)


def descriptors_by_id() -> dict[str, Descriptor]:
    """Every descriptor of the form, annotations and repetition children included, by id."""
    found: dict[str, Descriptor] = {}
    for descriptor in FORM + ANNOTATION_FORM:
        found[descriptor.id] = descriptor
        for child in descriptor.children:
            found[child.id] = child
    return found


# --- the démarche ---------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    """A DS date: ISO 8601 to the second, in Europe/Paris with its offset."""
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


def _revision() -> dict[str, Any]:
    return {
        "id": gid("ProcedureRevision", REVISION_NUMBER),
        "dateCreation": iso(datetime(2024, 1, 10, 9, 0, tzinfo=PARIS)),
        "datePublication": iso(datetime(2024, 1, 16, 9, 0, tzinfo=PARIS)),
        "champDescriptors": [descriptor.to_graphql() for descriptor in FORM],
        "annotationDescriptors": [descriptor.to_graphql() for descriptor in ANNOTATION_FORM],
    }


def _groupe() -> dict[str, Any]:
    return {
        "id": gid("GroupeInstructeur", 1),
        "number": 1,
        "label": "défaut",
        "closed": False,
        "instructeurs": [dict(INSTRUCTEUR)],
    }


def demarche_node(number: int = DEMARCHE_NUMBER) -> dict[str, Any]:
    """The `Demarche` node: its active revision and its one groupe instructeur."""
    revision = _revision()
    groupe = _groupe()
    return {
        "id": gid("Procedure", number),
        "number": number,
        "title": DEMARCHE_TITLE,
        "description": "Appel à projets national 2024 de la MILDECA, réservé aux communes et "
        "aux intercommunalités.",
        "state": "publiee",
        "declarative": None,
        "dateCreation": revision["dateCreation"],
        "datePublication": revision["datePublication"],
        "dateDerniereModification": revision["datePublication"],
        "dateFermeture": iso(datetime(2024, 4, 30, 0, 0, tzinfo=PARIS)),
        "dateDepublication": None,
        "activeRevision": revision,
        "publishedRevision": revision,
        "draftRevision": revision,
        "revisions": [revision],
        "champDescriptors": revision["champDescriptors"],
        "annotationDescriptors": revision["annotationDescriptors"],
        "groupeInstructeurs": [groupe],
        "administrateurs": [{"id": gid("Profile", 2), "email": "admin@mildeca.example"}],
        "labels": [],
        "service": None,
        "chorusConfiguration": None,
    }


def demarche_descriptor(demarche: dict[str, Any]) -> dict[str, Any]:
    """`Dossier.demarche`: the `DemarcheDescriptor` every dossier points to (shared)."""
    keys = ("id", "number", "title", "description", "state", "declarative", "dateCreation")
    node = {key: demarche[key] for key in keys}
    node |= {
        "datePublication": demarche["datePublication"],
        "dateDerniereModification": demarche["dateDerniereModification"],
        "dateFermeture": demarche["dateFermeture"],
        "revision": demarche["activeRevision"],
        "dureeConservationDossiers": 12,
        "opendata": False,
        "tags": [],
        "zones": ["Premier ministre"],
    }
    return node


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file's bytes, as the object storage behind a `File.url` holds them."""

    content: bytes
    content_type: str
    filename: str


def md5_base64(content: bytes) -> str:
    """ActiveStorage's checksum: base64 of the MD5 digest."""
    return base64.b64encode(hashlib.md5(content).digest()).decode()


def ascii_text(text: str) -> str:
    """The text without accents or characters a PDF literal string would need escaped."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in plain if char not in "()\\")


def pdf(text: str) -> bytes:
    """A small valid one-page PDF 1.4 showing `text` (a few hundred bytes, a real xref)."""
    stream = f"BT /F1 11 Tf 56 780 Td ({ascii_text(text)}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def file_node(key: str, stored: StoredFile, created_at: str) -> dict[str, Any]:
    """A `File` without its `url` (the server adds it): size, MD5 checksum, scan result."""
    return {
        "key": key,
        "filename": stored.filename,
        "contentType": stored.content_type,
        "byteSizeBigInt": len(stored.content),
        "byteSize": len(stored.content),
        "checksum": md5_base64(stored.content),
        "createdAt": created_at,
        "virusScanResult": "safe",
    }


# --- identifiers ------------------------------------------------------------------------------


def luhn_is_valid(digits: str) -> bool:
    """Luhn's checksum over any number of digits (SIREN: 9, SIRET: 14) is 0."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def with_luhn_digit(digits: str) -> str:
    """`digits` and the one check digit that makes the whole pass Luhn."""
    return next(digits + str(d) for d in range(10) if luhn_is_valid(digits + str(d)))


def siret_for(siren_stem: str, rng: random.Random) -> str:
    """A SIRET from an 8-digit SIREN stem: the SIREN passes Luhn, and so does the SIRET."""
    siren = with_luhn_digit(siren_stem)
    siret = with_luhn_digit(siren + "".join(str(rng.randrange(10)) for _ in range(4)))
    assert siren_is_valid(siret[:9]) and luhn_is_valid(siret)
    return siret


def departement_codes() -> list[str]:
    """The départements in a fixed order (a frozenset's order depends on the hash seed)."""
    return sorted(DEPARTEMENTS)


# --- the applicant ----------------------------------------------------------------------------

_PLACES_A = (
    "Saint-Martin",
    "Villeneuve",
    "Beaumont",
    "Montreuil",
    "Saint-Julien",
    "Fontaine",
    "Neuville",
    "Châteauneuf",
    "Sainte-Marie",
    "Belleville",
    "Rochefort",
    "Clairvaux",
    "Saint-Laurent",
    "Bourg",
    "Mont",
    "Pont",
)
_PLACES_B = (
    "sur-Loire",
    "les-Bois",
    "en-Vallée",
    "le-Château",
    "sur-Mer",
    "la-Forêt",
    "du-Lac",
    "des-Prés",
    "sous-Roche",
    "la-Rivière",
    "le-Haut",
    "les-Vignes",
)
_PAYS = ("Val de Loire", "Haut-Jura", "Pays de Brie", "Pays des Marches", "Vexin", "Haut-Bugey")
_FIRST_NAMES = ("Claire", "Jean", "Sophie", "Karim", "Nathalie", "Pierre", "Aïcha", "Luc", "Inès")
_LAST_NAMES = ("Martin", "Bernard", "Dubois", "Moreau", "Lefèvre", "Garnier", "Benali", "Roux")
_FORMES = {
    "7210": "Commune et commune nouvelle",
    "7343": "Communauté urbaine",
    "7346": "Communauté de communes",
}


def _slug(text: str) -> str:
    plain = ascii_text(text).lower().replace("'", "-").replace(" ", "-")
    return "-".join(part for part in plain.split("-") if part)


def _of(name: str) -> str:
    """`de Beaumont`, `d'Inval`: French elision before a vowel."""
    return f"d'{name}" if name[0] in "AEIOUÉÈ" else f"de {name}"


@dataclass(frozen=True)
class Applicant:
    kind: str  # formeJuridiqueCode
    name: str  # the commune, or the intercommunalité's territory
    city: str  # the commune, or the intercommunalité's seat
    raison_sociale: str
    siret: str
    departement: str
    city_code: str
    postal_code: str
    role: str
    representative: str
    domain: str


def _applicant(rng: random.Random) -> Applicant:
    departement = rng.choice(departement_codes())
    place = f"{rng.choice(_PLACES_A)}-{rng.choice(_PLACES_B)}"
    commune_no = rng.randrange(1, 100 if len(departement) == 3 else 900)
    city_code = f"{departement}{commune_no:0{5 - len(departement)}d}"
    postal_prefix = "20" if departement in ("2A", "2B") else departement
    rest = 5 - len(postal_prefix)
    postal_code = f"{postal_prefix}{rng.randrange(10**rest):0{rest}d}"
    representative = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    if rng.random() < 0.8:
        stem = f"21{postal_code[:2]}{commune_no % 1000:03d}{rng.randrange(10)}"
        return Applicant(
            "7210",
            place,
            place,
            f"Commune {_of(place)}",
            siret_for(stem, rng),
            departement,
            city_code,
            postal_code,
            "Maire",
            representative,
            f"mairie-{_slug(place)}.fr",
        )
    kind = rng.choice(("7346", "7346", "7343"))
    if kind == "7346":
        pays = rng.choice(_PAYS)
        name = f"Communauté de communes du {pays}"
    else:
        pays = place
        name = f"Communauté urbaine {_of(place)}"
    stem = "200" + "".join(str(rng.randrange(10)) for _ in range(5))
    return Applicant(
        kind,
        pays,
        place,
        name,
        siret_for(stem, rng),
        departement,
        city_code,
        postal_code,
        "Président(e)",
        representative,
        f"cc-{_slug(pays)}.fr",
    )


def _demandeur(number: int, a: Applicant) -> dict[str, Any]:
    city = a.city
    label = f"1 place de la Mairie {a.postal_code} {city}"
    address = {
        "label": label,
        "type": "housenumber",
        "streetAddress": "1 place de la Mairie",
        "streetNumber": "1",
        "streetName": "place de la Mairie",
        "postalCode": a.postal_code,
        "cityName": city,
        "cityCode": a.city_code,
        "departmentCode": a.departement,
        "departmentName": None,
        "regionCode": None,
        "regionName": None,
        "countryCode": "FR",
        "countryName": "France",
        "geometry": None,
    }
    return {
        "__typename": "PersonneMorale",
        "id": gid("Etablissement", number),
        "siret": a.siret,
        "siegeSocial": True,
        "naf": "84.11Z",
        "libelleNaf": "Administration publique générale",
        "address": address,
        "adresse": label,
        "codePostal": a.postal_code,
        "localite": city,
        "codeInseeLocalite": a.city_code,
        "entreprise": {
            "siren": a.siret[:9],
            "siretSiegeSocial": a.siret,
            "raisonSociale": a.raison_sociale,
            "nomCommercial": "",
            "formeJuridiqueCode": a.kind,
            "formeJuridique": _FORMES[a.kind],
            "inlineAdresse": label,
            "etatAdministratif": "Actif",
        },
        "association": None,
    }


# --- the project ------------------------------------------------------------------------------

_TITLES = (
    "Prévenir l'entrée des jeunes dans les trafics",
    "Des alternatives aux réseaux pour les 11-25 ans",
    "Reprendre l'espace public avec les habitants",
    "Détecter tôt et accompagner les jeunes exposés",
    "Former les professionnels au repérage des basculements",
)
_SENTENCES = (
    "Des ateliers hebdomadaires réunissent les jeunes repérés par les éducateurs de rue.",
    "Un réseau d'adultes relais assure une présence en soirée sur les lieux de regroupement.",
    "Les professionnels de l'éducation nationale et de la prévention sont formés ensemble.",
    "Des chantiers éducatifs rémunérés offrent une première expérience de travail.",
    "Une cellule de veille partagée repère les situations de basculement et oriente les familles.",
    "Les parents sont associés par des groupes de parole animés par une psychologue.",
    "Des événements sportifs et culturels occupent les halls et les places le week-end.",
    "Une campagne de communication déconstruit l'image valorisante des réseaux.",
    "Le conseil local de sécurité et de prévention de la délinquance pilote le plan d'action.",
    "Une évaluation externe mesure chaque année l'évolution des situations suivies.",
)
_QUARTIERS = ("du Centre", "des Tilleuls", "de la Gare", "des Hauts", "du Vieux Port", "des Iris")
_PUBLICS = (
    "Jeunes de 11 à 25 ans résidant dans les quartiers prioritaires de la politique de la ville.",
    "Collégiens et lycéens repérés par les établissements et leurs familles.",
    "Jeunes déscolarisés ou sans emploi suivis par la mission locale.",
    "Professionnels de la jeunesse, de l'éducation et de la prévention du territoire.",
)
_PARTNERS = (
    ("Collège Jean Moulin", "Établissement scolaire"),
    ("Mission locale", "Insertion"),
    ("Association Prévention Jeunesse", "Association"),
    ("Commissariat de police", "Service de l'État"),
    ("Centre social", "Association"),
    ("Protection judiciaire de la jeunesse", "Service de l'État"),
)
_LINES = {
    "Actions": ("Ateliers de prévention", "Chantiers éducatifs", "Sorties et séjours"),
    "Personnel dédié au projet": ("Éducateur de rue (mi-temps)", "Coordinateur du projet"),
    "Formation": ("Formation des professionnels", "Formation au repérage"),
    "Communication": ("Campagne d'affichage", "Vidéos de sensibilisation"),
    "Équipement": ("Matériel sportif", "Mobilier urbain"),
    "Évaluation": ("Évaluation externe", "Enquête auprès des jeunes"),
}


def _summary(rng: random.Random, a: Applicant, months: int) -> str:
    holder = a.raison_sociale[0].lower() + a.raison_sociale[1:]
    opening = (
        f"La {holder} engage un plan d'action de {months} mois pour prévenir la "
        "participation des jeunes aux trafics de stupéfiants."
    )
    return " ".join([opening, *rng.sample(_SENTENCES, rng.randint(2, 5))])


def _territory(rng: random.Random, a: Applicant) -> str:
    quartiers = rng.sample(_QUARTIERS, rng.randint(1, 3))
    return (
        f"Quartiers {', '.join(quartiers)} ({a.name}), "
        f"département {a.departement}, code INSEE {a.city_code}."
    )


def euros_text(cents: int) -> str:
    """An amount as a commune types it: `12500`, or `12500.50` when it has cents."""
    euros, rest = divmod(cents, 100)
    return str(euros) if rest == 0 else f"{euros}.{rest:02d}"


# --- champs ---------------------------------------------------------------------------------


def _champ(descriptor: Descriptor, updated_at: str, row_id: str | None = None) -> Champ:
    return {
        "__typename": descriptor.champ_typename,
        "id": champ_id(descriptor.stable_id, row_id),
        "champDescriptorId": descriptor.id,
        "label": descriptor.label,
        "updatedAt": updated_at,
    }


def set_value(champ: Champ, value: Any) -> Champ:
    """Give a champ its `stringValue` and typed value as DS renders them, from `value`.

    Text and choices: the text; numbers: the text typed (`value` a float for a decimal, the
    BigInt as a string for an integer); a checkbox: a bool (`Oui`/`Non`); a multiple choice: a
    list of labels (`values`).
    """
    typename = champ["__typename"]
    if typename == "MultipleDropDownListChamp":
        labels = [value] if isinstance(value, str) else list(value or [])
        champ["values"] = labels
        champ["stringValue"] = ", ".join(labels)
    elif typename == "CheckboxChamp":
        checked = value in (True, "true", "Oui", "on", "1")
        champ["value"] = checked
        champ["stringValue"] = "Oui" if checked else "Non"
    elif typename == "DecimalNumberChamp":
        text = str(value)
        champ["stringValue"] = text
        try:
            champ["value"] = float(text.replace(",", "."))
        except ValueError:
            champ["value"] = None
    elif typename == "IntegerNumberChamp":
        text = str(value)
        champ["stringValue"] = text
        champ["value"] = text if text.lstrip("-").isdigit() else None
    else:
        champ["stringValue"] = str(value)
        champ["value"] = str(value)
    return champ


def _row_id(rng: random.Random, at: datetime) -> str:
    """A ULID-like row id (DS keys a repetition's rows with one): time, then randomness."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    bits = (int(at.timestamp() * 1000) << 80) | rng.getrandbits(80)
    return "".join(alphabet[(bits >> (5 * i)) & 31] for i in reversed(range(26)))


def _repetition(
    descriptor: Descriptor,
    rows: list[list[Any]],
    rng: random.Random,
    at: datetime,
    updated_at: str,
) -> Champ:
    champ = _champ(descriptor, updated_at)
    champ["stringValue"] = ""
    champ["rows"] = []
    for values in rows:
        row_id = _row_id(rng, at)
        cells = [
            set_value(_champ(child, updated_at, row_id), value)
            for child, value in zip(descriptor.children, values, strict=True)
        ]
        champ["rows"].append({"id": gid("Row", row_id), "champs": cells})
    return champ


class Filed(NamedTuple):
    """A dossier and the bytes of its files, by key."""

    dossier: Dossier
    files: dict[str, StoredFile]


def _files(
    number: int, seed: int, descriptor: Descriptor, applicant: Applicant, count: int, at: str
) -> tuple[list[dict[str, Any]], dict[str, StoredFile]]:
    nodes, stored = [], {}
    for index in range(count):
        key = hashlib.sha256(f"{seed}:{number}:{descriptor.stable_id}:{index}".encode()).hexdigest()
        filename = f"{_slug(descriptor.label)}{'-' + str(index + 1) if index else ''}.pdf"
        text = f"Dossier {number} - {descriptor.label} - {applicant.raison_sociale} - {index + 1}"
        stored[key[:32]] = StoredFile(pdf(text), "application/pdf", filename)
        nodes.append(file_node(key[:32], stored[key[:32]], at))
    return nodes, stored


def _budget_rows(rng: random.Random, months: int) -> list[list[Any]]:
    years = -(-months // 12)
    rows = []
    for _ in range(rng.randint(2, 6)):
        category = rng.choice(CATEGORIES[:-1])
        cents = rng.randrange(1_500_00, 45_000_00)
        if rng.random() < 0.6:
            cents -= cents % 100_00
        rows.append(
            [
                YEARS[rng.randrange(years)],
                category,
                rng.choice(_LINES[category]),
                euros_text(cents),
                False,
            ]
        )
    return sorted(rows, key=lambda row: row[0])


def _champs(
    number: int, seed: int, rng: random.Random, a: Applicant, filled: datetime
) -> tuple[list[Champ], dict[str, StoredFile]]:
    at = iso(filled)
    months = rng.randint(24, 36)
    budget = _budget_rows(rng, months)
    total = sum(int(Decimal(row[3]) * 100) for row in budget)
    requested = min(int(total * rng.uniform(0.5, 0.8)), 240_000_00)
    chosen = set(rng.sample(OBJECTIVES, rng.randint(1, 3)))
    simple: dict[str, Any] = {
        APPLICANT_NAME: a.raison_sociale,
        REPRESENTATIVE_NAME: a.representative,
        REPRESENTATIVE_ROLE: a.role,
        REPRESENTATIVE_EMAIL: f"{_slug(a.representative)}@{a.domain}",
        COORDINATOR: f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
        PROJECT_TITLE: f"{rng.choice(_TITLES)} — {a.name}",
        PROJECT_SUMMARY: _summary(rng, a, months),
        PROJECT_TERRITORY: _territory(rng, a),
        PROJECT_BENEFICIARIES: " ".join(rng.sample(_PUBLICS, rng.randint(1, 3))),
        PROJECT_OBJECTIVES: [o for o in OBJECTIVES if o in chosen],
        DURATION: str(months),
        TOTAL_COST: euros_text(total),
        REQUESTED: euros_text(requested),
    }
    partners = [list(p) for p in rng.sample(_PARTNERS, rng.randint(0, 3))]
    champs: list[Champ] = []
    stored: dict[str, StoredFile] = {}
    for descriptor in FORM:
        champ_key = descriptor.id
        if champ_key in simple:
            champs.append(set_value(_champ(descriptor, at), simple[champ_key]))
        elif champ_key == PARTNERS:
            champs.append(_repetition(descriptor, partners, rng, filled, at))
        elif champ_key == BUDGET:
            champs.append(_repetition(descriptor, budget, rng, filled, at))
        else:  # a piece justificative: the required ones always, "Autres pièces" sometimes
            count = 1 if descriptor.required else rng.choice((0, 0, 1, 2))
            nodes, files = _files(number, seed, descriptor, a, count, at)
            champ = _champ(descriptor, at)
            champ["files"] = nodes
            champ["stringValue"] = ", ".join(node["filename"] for node in nodes)
            champs.append(champ)
            stored |= files
    return champs, stored


# --- dossiers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dates:
    filled: datetime
    depot: datetime
    champs: datetime
    instruction: datetime | None
    modified: datetime


def _dates(rng: random.Random, deposited_at: datetime | None, instruct: bool) -> _Dates:
    """When it was filled, filed, edited, put in instruction; a dossier filed at a given
    moment (`deposited_at`, e.g. now) has nothing after it yet."""
    span = int((FILED_UNTIL - FILED_FROM).total_seconds())
    depot = (deposited_at or FILED_FROM + timedelta(seconds=rng.randrange(span))).replace(
        microsecond=0
    )
    filled = depot - timedelta(seconds=rng.randrange(600, 3 * 86400))
    if deposited_at is not None:
        return _Dates(filled, depot, depot, depot if instruct else None, depot)
    edited = rng.random() < 0.25
    champs = depot + timedelta(seconds=rng.randrange(3600, 10 * 86400)) if edited else depot
    modified = champs + timedelta(seconds=rng.randrange(0, 900))
    instruction = None
    if instruct:
        instruction = modified + timedelta(seconds=rng.randrange(86400, 20 * 86400))
        modified = instruction
    return _Dates(filled, depot, champs, instruction, modified)


def _traitement(number: int, index: int, event: str, state: str, at: str) -> dict[str, Any]:
    return {
        "id": gid("Traitement", number * 100 + index),
        "event": event,
        "state": state,
        "dateTraitement": at,
        "emailAgentTraitant": None if event == "depose" else INSTRUCTEUR_EMAIL,
        "motivation": None,
    }


def build_dossier(
    number: int,
    *,
    seed: int = 0,
    demarche: dict[str, Any] | None = None,
    deposited_at: datetime | None = None,
    state: Literal["en_construction", "en_instruction"] | None = None,
) -> Filed:
    """One dossier as a commune or an intercommunalité files it, and its files' bytes.

    Deterministic in (number, seed); `deposited_at` (default: a moment of the 2024 filing
    window) and `state` (default: `en_instruction` for about one in twelve) may be forced.
    """
    rng = random.Random(f"ds-fake:{seed}:{number}")
    instruct = rng.random() < 0.08 if state is None else state == "en_instruction"
    dates = _dates(rng, deposited_at, instruct)
    applicant = _applicant(rng)
    champs, files = _champs(number, seed, rng, applicant, dates.filled)
    if dates.champs > dates.depot:  # edited after filing: one answer carries that moment
        champs[rng.randrange(len(champs))]["updatedAt"] = iso(dates.champs)
    node = demarche or demarche_node()
    depot = iso(dates.depot)
    traitements = [_traitement(number, 0, "depose", "en_construction", depot)]
    if dates.instruction:
        traitements.append(
            _traitement(number, 1, "passe_en_instruction", "en_instruction", iso(dates.instruction))
        )
    dossier: Dossier = {
        "id": gid("Dossier", number),
        "number": number,
        "state": "en_instruction" if dates.instruction else "en_construction",
        "archived": False,
        "prefilled": False,
        "deposeParUnTiers": False,
        "connectionUsager": "password",
        "dateDepot": depot,
        "datePassageEnConstruction": depot,
        "datePassageEnInstruction": iso(dates.instruction) if dates.instruction else None,
        "dateTraitement": None,
        "dateDerniereModification": iso(dates.modified),
        "dateDerniereModificationChamps": iso(dates.champs),
        "dateDerniereModificationAnnotations": depot,
        "dateDerniereCorrectionEnAttente": None,
        "dateExpiration": None,
        "motivation": None,
        "usager": {"id": gid("User", number), "email": f"secretariat@{applicant.domain}"},
        "demarche": demarche_descriptor(node),
        "revision": node["activeRevision"],
        "groupeInstructeur": node["groupeInstructeurs"][0],
        "instructeurs": node["groupeInstructeurs"][0]["instructeurs"],
        "demandeur": _demandeur(number, applicant),
        "champs": champs,
        "annotations": [
            _champ(d, depot) | {"stringValue": "", "value": None} for d in ANNOTATION_FORM
        ],
        "traitements": traitements,
        "messages": [],
        "labels": [],
        "avis": [],
    }
    return Filed(dossier, files)


@dataclass
class Demarche:
    """What `build_demarche` gives: the `Demarche` node, its dossiers, their files' bytes.

    `demarche` is the node `demarche(number:)` answers (`activeRevision`, `groupeInstructeurs`);
    `dossiers` the `Dossier` nodes, by increasing number; `files` a file's bytes by the `key`
    its `File` node carries (`GET /files/<key>` on the server).
    """

    demarche: dict[str, Any]
    dossiers: list[Dossier]
    files: dict[str, StoredFile] = field(default_factory=dict)
    seed: int = 0

    @property
    def number(self) -> int:
        return int(self.demarche["number"])


def build_demarche(number: int = DEMARCHE_NUMBER, count: int = 250, seed: int = 0) -> Demarche:
    """The 2024 démarche with `count` dossiers numbered from 20240001, deterministically."""
    node = demarche_node(number)
    built = Demarche(node, [], {}, seed)
    for offset in range(count):
        filed = build_dossier(FIRST_DOSSIER_NUMBER + offset, seed=seed, demarche=node)
        built.dossiers.append(filed.dossier)
        built.files |= filed.files
    return built


# --- reading and spoiling a dossier -------------------------------------------------------------


def all_champs(dossier: Dossier) -> list[Champ]:
    """Every champ of a dossier: the roots, then each repetition's rows' champs."""
    found = []
    for champ in dossier["champs"]:
        found.append(champ)
        for row in champ.get("rows", ()):
            found.extend(row["champs"])
    return found


def find_champ(dossier: Dossier, champ_key: str) -> Champ | None:
    """A champ by its `id` (root or row champ), or None."""
    return next((c for c in all_champs(dossier) if c["id"] == champ_key), None)


def with_three_decimal_amount(dossier: Dossier, amount: str = "1200.505") -> Dossier:
    """A copy whose first budget line's amount has three decimals (DS accepts it, aap not)."""
    spoiled = copy.deepcopy(dossier)
    budget = next(c for c in spoiled["champs"] if c["id"] == BUDGET)
    cell = next(
        c
        for c in budget["rows"][0]["champs"]
        if c["champDescriptorId"] == champ_id(BUDGET_AMOUNT_STABLE_ID)
    )
    set_value(cell, amount)
    return spoiled


def without_champ(dossier: Dossier, champ_key: str = PROJECT_TITLE) -> Dossier:
    """A copy without a root champ (an older revision, a condition hid it): `champ_missing`."""
    spoiled = copy.deepcopy(dossier)
    spoiled["champs"] = [c for c in spoiled["champs"] if c["id"] != champ_key]
    return spoiled


def with_invalid_siret(dossier: Dossier) -> Dossier:
    """A copy whose SIRET fails Luhn (its SIREN still passes): `siret_invalid`."""
    spoiled = copy.deepcopy(dossier)
    siret = spoiled["demandeur"]["siret"]
    spoiled["demandeur"]["siret"] = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    return spoiled


def as_personne_morale_incomplete(dossier: Dossier) -> Dossier:
    """A copy whose demandeur DS could not complete (the company registry was unreachable)."""
    spoiled = copy.deepcopy(dossier)
    demandeur = spoiled["demandeur"]
    spoiled["demandeur"] = {
        "__typename": "PersonneMoraleIncomplete",
        "id": demandeur["id"],
        "siret": demandeur["siret"],
    }
    return spoiled


Spoil = Literal["amount_three_decimals", "champ_missing", "siret_luhn", "demandeur_incomplete"]
_SPOILS = {
    "amount_three_decimals": with_three_decimal_amount,
    "champ_missing": without_champ,
    "siret_luhn": with_invalid_siret,
    "demandeur_incomplete": as_personne_morale_incomplete,
}


def unmappable(dossier: Dossier, how: Spoil) -> Dossier:
    """A copy of `dossier` that aap's mapping must refuse, in the way `how` names."""
    return _SPOILS[how](dossier)
