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
    reviewer = "reviewer"  # a member of the committee, bound to their person (the subject)
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


def within_binding(
    actor: Actor, *, siren: str | None = None, departement: str | None = None
) -> bool:
    """Whether the dossier of this holder and département is within the actor's binding: an
    applicant's SIREN, a préfecture's département; MILDECA and the auditors see every dossier;
    a committee member none this way (they read the dossiers they review through the committee's
    routes, once they declared no conflict of interest).

    A dossier outside it answers exactly as a dossier that does not exist (404), so that
    nobody learns which dossier ids exist, nor whose they are.
    """
    if actor.role is Role.applicant:
        return siren is not None and actor.siren == siren
    if actor.role is Role.prefecture:
        return departement is not None and actor.departement == departement
    # A reviewer reads the dossiers they review through the committee's routes only.
    return actor.role is not Role.reviewer
