"""Old versions of an event stay readable: on read, each is upcast step by step to the latest.

The log keeps every event as it was written, forever. A new version of an event type comes
with an upcaster from the previous one (a pure function of the JSON payload, listed beside the
event in its contract module), so a consumer replaying the log from offset 0 sees only the
versions its code knows, the latest of each.
"""

from typing import Any

from shared.contracts.base import TYPE_PREFIX, DomainEvent, UnknownEventType
from shared.contracts.registry import event_model, registered_types, upcaster_from
from shared.contracts.values import RECORDED

Data = dict[str, Any]


class UnknownEventVersion(UnknownEventType):
    """A version of a known event type that this code cannot read (a newer service wrote it)."""


def upcast(cloud_type: str, data: Data) -> tuple[str, Data]:
    """The latest version of an event written as `cloud_type`; other types pass unchanged.

    Raises UnknownEventVersion for a version of one of our event types that is not known here.
    """
    while (upcaster := upcaster_from(cloud_type)) is not None:
        cloud_type, data = upcaster.new.cloud_type(), upcaster.step(data)
    try:
        event_model(cloud_type)
    except UnknownEventType:
        name = _name_of(cloud_type)
        versions = sorted(m.version for m in registered_types().values() if name and m.name == name)
        if versions:
            raise UnknownEventVersion(
                f"{cloud_type}: this code reads {name} v{versions[0]} to v{versions[-1]}; "
                "a newer version needs a newer consumer"
            ) from None
    return cloud_type, data


def read_event(cloud_type: str, data: Data) -> DomainEvent:
    """The typed event, in its latest version, from its payload as written in any version."""
    latest, data = upcast(cloud_type, data)
    return event_model(latest).model_validate(data, context=RECORDED)


def versions_of(model: type[DomainEvent]) -> list[type[DomainEvent]]:
    """Every registered version of an event type, oldest first."""
    return sorted(
        (m for m in registered_types().values() if m.name == model.name), key=lambda m: m.version
    )


def missing_upcasters() -> list[str]:
    """The older versions with no upcaster to the next one: a new version must bring it."""
    known = registered_types()
    return [t for t, m in known.items() if m is not versions_of(m)[-1] and upcaster_from(t) is None]


def _name_of(cloud_type: str) -> str:
    """`NotificationSent` for fr.gouv.mildeca.aap.NotificationSent.v3; '' for a foreign type."""
    name, dot_v, version = cloud_type.removeprefix(TYPE_PREFIX).rpartition(".v")
    return name if cloud_type.startswith(TYPE_PREFIX) and dot_v and version.isdigit() else ""
