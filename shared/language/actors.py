"""Who acts: a role, and what it is bound to (a SIREN, a département). Pure: no I/O.

The role table of DOMAIN.md is enforced here and in each service's domain: a refusal
names the role, its binding and what it may not do.
"""

from dataclasses import dataclass
from enum import Enum

from shared.language.errors import Forbidden


class Role(str, Enum):
    applicant = "applicant"  # bound to one SIREN
    prefecture = "prefecture"  # bound to one département code
    instructor = "instructor"  # MILDECA's instruction team
    president = "president"  # the President of MILDECA
    auditor = "auditor"  # reads everything, writes nothing


@dataclass(frozen=True)
class Actor:
    role: Role
    subject: str  # who: the token's `sub` (an e-mail, an agent id)
    siren: str | None = None
    departement: str | None = None

    def label(self) -> str:
        """How the actor is written in an event's metadata: role, binding, subject."""
        binding = self.siren or self.departement
        return (
            f"{self.role.value}:{binding}:{self.subject}"
            if binding
            else f"{self.role.value}:{self.subject}"
        )

    def describe(self) -> str:
        if self.role is Role.applicant:
            return f"the applicant bound to SIREN {self.siren}"
        if self.role is Role.prefecture:
            return f"the préfecture of département {self.departement}"
        return f"the {self.role.value}"


SYSTEM = "system"


def require_role(actor: Actor, *roles: Role, to: str) -> None:
    """Refuse (403) an actor whose role may not do `to` (e.g. "give the préfecture's opinion")."""
    if actor.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"{actor.describe()} may not {to}: only the {allowed} may")


def require_own_dossier(actor: Actor, siren: str, to: str) -> None:
    if actor.role is Role.applicant and actor.siren != siren:
        raise Forbidden(f"{actor.describe()} may not {to}: the dossier belongs to SIREN {siren}")


def require_own_departement(actor: Actor, departement: str, to: str) -> None:
    if actor.role is Role.prefecture and actor.departement != departement:
        raise Forbidden(
            f"{actor.describe()} may not {to}: the dossier is of département "
            f"{departement}, and a préfecture acts on its own département only"
        )


def require_reader(actor: Actor, *, siren: str | None, departement: str | None) -> None:
    """Instructors, the President and auditors read all; others only what they are bound to."""
    if actor.role is Role.applicant and siren is not None:
        require_own_dossier(actor, siren, "read this dossier")
    if actor.role is Role.prefecture and departement is not None:
        require_own_departement(actor, departement, "read this dossier")


def may_read(actor: Actor, *, siren: str | None, departement: str | None) -> bool:
    try:
        require_reader(actor, siren=siren, departement=departement)
    except Forbidden:
        return False
    return True
