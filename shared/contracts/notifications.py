"""Events of the notifications service: what was sent to whom, and what could not be."""

from typing import Any

from pydantic import AwareDatetime, Field

from shared.contracts.base import DomainEvent, Person, Upcaster


class NotificationSentV1(DomainEvent):
    """Version 1, still in the log: every address in one list, `To` and `Cc` alike."""

    name = "NotificationSent"
    version = 1

    notification_id: str
    template: str
    recipients: list[str]
    message_id: str
    sent_at: AwareDatetime


class NotificationSentV2(DomainEvent):
    """A mail went out: to whom, in copy of whom, under which Message-ID."""

    # Version 2, still in the log: the addresses in clear (its published schema says so).

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


class NotificationSent(NotificationSentV2):
    """A mail went out: to whom, in copy of whom, under which Message-ID. Version 3: each
    address is sealed on the wire under its person's key (docs/personal-data.md)."""

    version = 3
    personal = (Person("to[]", email=None), Person("cc[]", email=None))


def _read_as_written(earlier: dict[str, Any]) -> dict[str, Any]:
    # The same payload: only its wire form changed (its people sealed, shared.personal).
    return earlier


class NotificationFailed(DomainEvent):
    name = "NotificationFailed"

    notification_id: str
    template: str
    attempts: int
    reason: str
    failed_at: AwareDatetime


EVENTS = (NotificationSentV1, NotificationSentV2, NotificationSent, NotificationFailed)
UPCASTERS = (
    Upcaster(NotificationSentV1, NotificationSentV2, _recipients_split_into_to_and_cc),
    Upcaster(NotificationSentV2, NotificationSent, _read_as_written),
)
