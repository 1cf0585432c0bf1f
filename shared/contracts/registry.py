"""Every event type of the contract, named once: the contract modules, each listing its
events (every version still in the log) and the upcasters between their versions."""

from types import ModuleType

from shared.contracts import (
    applications,
    committee,
    deadlines,
    dotations,
    notifications,
    payments,
    personal,
    selection,
)
from shared.contracts.base import DomainEvent, UnknownEventType, Upcaster

CONTRACT_MODULES: tuple[ModuleType, ...] = (
    applications,
    selection,
    payments,
    notifications,
    deadlines,  # published by each service that owns a deadline
    dotations,  # published by selection
    committee,  # published by selection
    personal,  # published by applications
)

_TYPES: dict[str, type[DomainEvent]] = {
    model.cloud_type(): model for module in CONTRACT_MODULES for model in module.EVENTS
}
_UPCASTERS: dict[str, Upcaster] = {
    upcaster.old.cloud_type(): upcaster
    for module in CONTRACT_MODULES
    for upcaster in module.UPCASTERS
}


def register(*models: type[DomainEvent]) -> None:
    """Event types of the platform's tests or extensions, said where they are defined."""
    _TYPES.update({model.cloud_type(): model for model in models})


def event_model(cloud_type: str) -> type[DomainEvent]:
    try:
        return _TYPES[cloud_type]
    except KeyError:
        raise UnknownEventType(cloud_type) from None


def registered_types() -> dict[str, type[DomainEvent]]:
    return dict(_TYPES)


def upcaster_from(cloud_type: str) -> Upcaster | None:
    """The step from this version to the next, when it is not the latest."""
    return _UPCASTERS.get(cloud_type)
