"""Events of the notifications service: what was sent to whom, and what could not be."""

from typing import Any

from pydantic import AwareDatetime, Field

from shared.contracts.base import DomainEvent, Upcaster


class NotificationSentV1(DomainEvent):
    """Version 1, still in the log: every address in one list, `To` and `Cc` alike."""

    name = "NotificationSent"
    version = 1

    notification_id: str
    template: str
    recipients: list[str]
    message_id: str
    sent_at: AwareDatetime


class NotificationSent(DomainEvent):
    """A mail went out: to whom, in copy of whom, under which Message-ID."""

    name = "NotificationSent"
    version = 2

    notification_id: str
    template: str
    to: list[str] = Field(description="the addresses of the `To` header")
    cc: list[str] = Field(description="the addresses of the `Cc` header, none of them in `to`")
    message_id: str
    sent_at: AwareDatetime

    @property
    def recipients(self) -> list[str]:
        """Every address the mail went to, `To` first."""
        return [*self.to, *self.cc]


def _recipients_split_into_to_and_cc(v1: dict[str, Any]) -> dict[str, Any]:
    # Version 1 did not say who was in copy: all of them read as `To`.
    data = dict(v1)
    data["to"], data["cc"] = data.pop("recipients"), []
    return data


class NotificationFailed(DomainEvent):
    name = "NotificationFailed"

    notification_id: str
    template: str
    attempts: int
    reason: str
    failed_at: AwareDatetime


EVENTS = (NotificationSentV1, NotificationSent, NotificationFailed)
UPCASTERS = (Upcaster(NotificationSentV1, NotificationSent, _recipients_split_into_to_and_cc),)
