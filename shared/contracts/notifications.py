"""Events of the notifications service: what was sent to whom, and what could not be."""

from pydantic import AwareDatetime

from shared.contracts.base import DomainEvent


class NotificationSent(DomainEvent):
    name = "NotificationSent"

    notification_id: str
    template: str
    recipients: list[str]
    message_id: str
    sent_at: AwareDatetime


class NotificationFailed(DomainEvent):
    name = "NotificationFailed"

    notification_id: str
    template: str
    attempts: int
    reason: str
    failed_at: AwareDatetime
