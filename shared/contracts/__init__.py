"""The published contract: every domain event type, versioned, and how to read any version."""

from shared.contracts.base import DomainEvent, UnknownEventType, event_model, registered_types
from shared.contracts.upcasting import UnknownEventVersion, read_event, upcast

__all__ = [
    "DomainEvent",
    "UnknownEventType",
    "UnknownEventVersion",
    "event_model",
    "read_event",
    "registered_types",
    "upcast",
]
