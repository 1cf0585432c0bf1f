"""Base of all domain events: frozen, named in the past tense, versioned, keyed by dossier."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "fr.gouv.mildeca.aap."


class UnknownEventType(LookupError):
    pass


@dataclass(frozen=True)
class Person:
    """Where an event names a person, sealed on the wire (shared.personal): the node at `at`
    (dotted keys, `[]` for every element of a list), a mapping whose `email` identifies the
    person and is sealed with their `name`; or, `email` None, the node is the e-mail itself
    (`only_emails`: a node that is no e-mail, an agent's id, names nobody outside aap and stays
    in clear). A node that is not there, or not of that shape, names nobody."""

    at: str
    email: str | None = "email"
    name: str | None = "name"
    only_emails: bool = False


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    version: ClassVar[int] = 1
    # The people it names, sealed under their own keys when it is written (docs/personal-data.md).
    personal: ClassVar[tuple[Person, ...]] = ()

    dossier_id: UUID

    @classmethod
    def cloud_type(cls) -> str:
        """The CloudEvents `type`, e.g. fr.gouv.mildeca.aap.ApplicationSubmitted.v1."""
        return f"{TYPE_PREFIX}{cls.name}.v{cls.version}"

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:aap:schemas:events:{cls.name}:v{cls.version}"


Step = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Upcaster:
    """The way from version N of an event type to version N+1: a pure function of the payload."""

    old: type[DomainEvent]
    new: type[DomainEvent]
    step: Step

    def __post_init__(self) -> None:
        if (self.new.name, self.new.version) != (self.old.name, self.old.version + 1):
            raise ValueError(
                f"an upcaster goes from one version to the next: not {self.old.cloud_type()} "
                f"→ {self.new.cloud_type()}"
            )
