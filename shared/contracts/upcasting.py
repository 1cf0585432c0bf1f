"""Old versions of an event stay readable: on read, each is upcast step by step to the latest.

The log keeps every event as it was written, forever. A new version of an event type comes
with an upcaster from the previous one (a pure function of the JSON payload), so a consumer
replaying the log from offset 0 sees only the versions its code knows, the latest of each.
"""

from collections.abc import Callable
from typing import Any

from shared.contracts.base import (
    TYPE_PREFIX,
    DomainEvent,
    UnknownEventType,
    event_model,
    registered_types,
)

Data = dict[str, Any]
Step = Callable[[Data], Data]

# cloud type of a version → (the next version, the step that turns a payload into it)
_STEPS: dict[str, tuple[type[DomainEvent], Step]] = {}


class UnknownEventVersion(UnknownEventType):
    """A version of a known event type that this code cannot read (a newer service wrote it)."""


def upcaster(old: type[DomainEvent], new: type[DomainEvent]) -> Callable[[Step], Step]:
    """Register `step` as the way from version N of an event type to version N+1."""
    if (new.name, new.version) != (old.name, old.version + 1):
        raise ValueError(
            f"an upcaster goes from one version to the next: not {old.cloud_type()} "
            f"→ {new.cloud_type()}"
        )

    def register(step: Step) -> Step:
        _STEPS[old.cloud_type()] = (new, step)
        return step

    return register


def upcast(cloud_type: str, data: Data) -> tuple[str, Data]:
    """The latest version of an event written as `cloud_type`; other types pass unchanged.

    Raises UnknownEventVersion for a version of one of our event types that is not known here.
    """
    known = registered_types()  # loads every contract module, and so every upcaster
    while cloud_type in _STEPS:
        new, step = _STEPS[cloud_type]
        cloud_type, data = new.cloud_type(), step(data)
    if cloud_type not in known and (name := _name_of(cloud_type)):
        versions = sorted(m.version for m in known.values() if m.name == name)
        if versions:
            raise UnknownEventVersion(
                f"{cloud_type}: this code reads {name} v{versions[0]} to v{versions[-1]}; "
                "a newer version needs a newer consumer"
            )
    return cloud_type, data


def read_event(cloud_type: str, data: Data) -> DomainEvent:
    """The typed event, in its latest version, from its payload as written in any version."""
    latest, data = upcast(cloud_type, data)
    return event_model(latest).model_validate(data)


def versions_of(model: type[DomainEvent]) -> list[type[DomainEvent]]:
    """Every registered version of an event type, oldest first."""
    return sorted(
        (m for m in registered_types().values() if m.name == model.name), key=lambda m: m.version
    )


def missing_upcasters() -> list[str]:
    """The older versions with no upcaster to the next one: a new version must bring it."""
    known = registered_types()
    return [t for t, m in known.items() if m is not versions_of(m)[-1] and t not in _STEPS]


def _name_of(cloud_type: str) -> str:
    """`NotificationSent` for fr.gouv.mildeca.aap.NotificationSent.v3; '' for a foreign type."""
    name, dot_v, version = cloud_type.removeprefix(TYPE_PREFIX).rpartition(".v")
    return name if cloud_type.startswith(TYPE_PREFIX) and dot_v and version.isdigit() else ""
