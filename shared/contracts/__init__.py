"""The published contract: every domain event type, versioned, and how to read any version."""

from shared.contracts.base import DomainEvent, UnknownEventType, Upcaster
from shared.contracts.registry import event_model, register, registered_types
from shared.contracts.upcasting import UnknownEventVersion, read_event, upcast

__all__ = [
    "DomainEvent",
    "UnknownEventType",
    "UnknownEventVersion",
    "Upcaster",
    "event_model",
    "read_event",
    "register",
    "registered_types",
    "upcast",
]
