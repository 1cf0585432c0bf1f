"""The published contract: every domain event type, versioned, and how to find its model."""

from shared.contracts.base import DomainEvent, UnknownEventType, event_model, registered_types

__all__ = ["DomainEvent", "UnknownEventType", "event_model", "registered_types"]
