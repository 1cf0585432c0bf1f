"""Events of personal data: a person's data erased at their request (docs/personal-data.md)."""

from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.contracts.base import DomainEvent


class PersonalDataErased(DomainEvent):
    """A person's key destroyed: every value sealed under it reads as erased, everywhere and for
    good, while every hash still holds. It never names the person: its key (`dossier_id`) is the
    person's opaque id, as `person_id`, and not a dossier's."""

    name = "PersonalDataErased"

    person_id: UUID
    streams: list[str] = Field(
        description="the dossiers and drafts whose events named the person: each service "
        "rewrites what it keeps of them"
    )
    erased_at: AwareDatetime


EVENTS = (PersonalDataErased,)
UPCASTERS = ()
