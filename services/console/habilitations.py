"""Who may act as what: the identity provider says who a person is, aap's habilitations what they
may do. An agent (préfecture, MILDECA's instructors and President, the committee's members,
auditors) is named in the list by the e-mail the provider vouches for; an applicant needs no
entry: its SIREN is the first nine digits of the `siret` claim (the organisation the person acts
for)."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.language.actors import Role
from shared.language.referentials import DEPARTEMENTS, siren_is_valid

# A committee member (reviewer) is bound to their person: the services know them by the e-mail
# their tokens carry, which the instructor names them by on each dossier.
AGENTS = (Role.prefecture, Role.instructor, Role.president, Role.reviewer, Role.auditor)

_ALL = "SELECT email, role, departement, name, granted_at FROM habilitations ORDER BY role, email"
_OF_ROLE = "SELECT email, name FROM habilitations WHERE role = $1 ORDER BY name, email"
_OF = "SELECT role, departement FROM habilitations WHERE email = $1"
_GRANT = """
INSERT INTO habilitations (email, role, departement, name) VALUES ($1, $2, $3, $4)
ON CONFLICT (email) DO UPDATE
    SET role = excluded.role, departement = excluded.departement, name = excluded.name
"""
_REVOKE = "DELETE FROM habilitations WHERE email = $1"


class BadHabilitation(ValueError):
    """A habilitation that cannot be: said in words, nothing recorded."""


@dataclass(frozen=True)
class Habilitation:
    role: Role
    siren: str | None = None
    departement: str | None = None


def siren_of(siret: str | None) -> str | None:
    """The SIREN of a collectivité the person acts for: the first nine digits of its SIRET, when
    they are the SIREN of a collectivité territoriale or of a groupement of them (INSEE numbers
    them from 2). A State service's or a company's SIRET makes nobody an applicant."""
    if not siret or len(siret) != 14 or not siret.isdigit():
        return None
    siren = siret[:9]
    return siren if siren.startswith("2") and siren_is_valid(siren) else None


async def of(conn: asyncpg.Connection, email: str, siret: str | None) -> Habilitation | None:
    """The person's habilitation: as an agent when listed, else as the applicant of its SIREN."""
    row = await conn.fetchrow(_OF, email.lower())
    if row is not None:
        return Habilitation(Role(row["role"]), departement=row["departement"])
    siren = siren_of(siret)
    return Habilitation(Role.applicant, siren=siren) if siren else None


def checked(email: str, role: str, departement: str | None) -> tuple[str, Role, str | None]:
    address = email.strip().lower()
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise BadHabilitation(f"{email!r} is not an e-mail address")
    try:
        agent = Role(role)
    except ValueError:
        raise BadHabilitation(f"{role!r} is not a role") from None
    if agent not in AGENTS:
        raise BadHabilitation(
            f"{role}: habilitations are for agents ({', '.join(r.value for r in AGENTS)}); an "
            "applicant is known by the SIRET its identity provider gives"
        )
    if agent is Role.prefecture and departement not in DEPARTEMENTS:
        raise BadHabilitation(f"a préfecture is bound to its département: {departement!r} is none")
    if agent is not Role.prefecture and departement:
        raise BadHabilitation(f"only a préfecture is bound to a département, not the {role}")
    return address, agent, departement if agent is Role.prefecture else None


async def grant(
    conn: asyncpg.Connection, email: str, role: str, departement: str | None, name: str = ""
) -> None:
    address, agent, bound = checked(email, role, departement)
    await conn.execute(_GRANT, address, agent.value, bound, name)


async def revoke(conn: asyncpg.Connection, email: str) -> bool:
    status: str = await conn.execute(_REVOKE, email.strip().lower())
    return status != "DELETE 0"


async def listed(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_ALL)]


async def holding(conn: asyncpg.Connection, role: Role) -> list[dict[str, str]]:
    """The people habilitated with one role (the committee's members, for the instructor to
    name them), by name."""
    return [dict(r) for r in await conn.fetch(_OF_ROLE, role.value)]
