"""Base of all domain events: frozen, named in the past tense, versioned, keyed by dossier."""

from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "fr.gouv.mildeca.aap."


class UnknownEventType(LookupError):
    pass


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    version: ClassVar[int] = 1

    dossier_id: UUID

    @classmethod
    def cloud_type(cls) -> str:
        """The CloudEvents `type`, e.g. fr.gouv.mildeca.aap.ApplicationSubmitted.v1."""
        return f"{TYPE_PREFIX}{cls.name}.v{cls.version}"

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:aap:schemas:events:{cls.name}:v{cls.version}"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.cloud_type()] = cls


_REGISTRY: dict[str, type[DomainEvent]] = {}


def event_model(cloud_type: str) -> type[DomainEvent]:
    _load_all()
    try:
        return _REGISTRY[cloud_type]
    except KeyError:
        raise UnknownEventType(cloud_type) from None


def registered_types() -> dict[str, type[DomainEvent]]:
    _load_all()
    return dict(_REGISTRY)


def _load_all() -> None:
    # Importing the modules registers their events; done on first use, not at import time.
    from shared.contracts import applications, notifications, payments, selection  # noqa: F401
