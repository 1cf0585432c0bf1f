"""What applications is asked to do: one typed command per rule, each the input of `decide`."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.contracts.applications import Dossier, Origin
from shared.contracts.values import Attachment
from shared.language.actors import Actor
from shared.language.attachments import Audience
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class Decision:
    """What applications heard of the President's decision (from `SelectionDecided`)."""

    outcome: str
    decided_at: datetime


@dataclass(frozen=True)
class Submit:
    actor: Actor
    dossier_id: UUID
    reference: str  # the campaign's next number, taken in the filing's transaction
    campaign: Campaign
    dossier: Dossier
    now: datetime


@dataclass(frozen=True)
class Withdraw:
    actor: Actor
    dossier_id: UUID
    reason: str
    now: datetime
    decided: Decision | None  # heard from selection's log: the input of the withdrawal rule


# --- the exchange: attachments, messages, notes -------------------------------------------------


@dataclass(frozen=True)
class AddAttachment:
    actor: Actor
    dossier_id: UUID
    attachment: Attachment
    audience: Audience
    now: datetime


@dataclass(frozen=True)
class PostMessage:
    actor: Actor
    dossier_id: UUID
    message_id: UUID
    text: str
    attachments: list[UUID]
    now: datetime


@dataclass(frozen=True)
class AddNote:
    actor: Actor
    dossier_id: UUID
    note_id: UUID
    text: str
    attachments: list[UUID]
    now: datetime


# --- corrections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestCorrection:
    actor: Actor
    dossier_id: UUID
    request_id: UUID
    fields: list[str]
    reason: str
    due_at: datetime | None  # None: the campaign's correction_days from now
    now: datetime
    decided: Decision | None
    campaigns: Mapping[str, Campaign]


@dataclass(frozen=True)
class Amend:
    actor: Actor
    dossier_id: UUID
    changes: dict[str, Any]  # field path → its new value, as JSON
    now: datetime
    decided: Decision | None


@dataclass(frozen=True)
class RemindOfCorrection:
    """The schedule's: a reminder's instant before the correction's deadline came."""

    dossier_id: UUID
    due_at: datetime
    window_days: int
    reminder_days: tuple[int, ...]
    now: datetime


@dataclass(frozen=True)
class MarkCorrectionOverdue:
    """The schedule's: the correction's deadline came (nothing if it was answered)."""

    dossier_id: UUID
    due_at: datetime
    now: datetime


@dataclass(frozen=True)
class CloseIncomplete:
    actor: Actor
    dossier_id: UUID
    motivation: str
    now: datetime
    decided: Decision | None


# --- drafts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveDraft:
    actor: Actor
    dossier_id: UUID
    campaign: Campaign
    content: dict[str, Any]
    now: datetime


@dataclass(frozen=True)
class ShareDraft:
    actor: Actor
    dossier_id: UUID
    now: datetime


@dataclass(frozen=True)
class CommentDraft:
    actor: Actor
    dossier_id: UUID
    comment_id: UUID
    text: str
    now: datetime


@dataclass(frozen=True)
class FileDraft:
    actor: Actor
    dossier_id: UUID
    reference: str
    campaign: Campaign
    now: datetime


# --- dossiers filed on another platform (Démarches Simplifiées), imported ----------------------


@dataclass(frozen=True)
class ImportDossier:
    """A dossier filed on the platform `origin` names, with the files it carried there."""

    dossier_id: UUID
    reference: str
    campaign: Campaign
    dossier: Dossier
    origin: Origin
    attachments: tuple[Attachment, ...]
    now: datetime


@dataclass(frozen=True)
class AmendOnPlatform:
    """What the applicant changed on the platform since the last import, and new files."""

    dossier_id: UUID
    change_id: UUID  # the platform's change: the same change imported twice is one amendment
    dossier: Dossier
    origin: Origin
    attachments: tuple[Attachment, ...]
    now: datetime
    decided: Decision | None


@dataclass(frozen=True)
class WithdrawOnPlatform:
    """The dossier was deleted on the platform (by its applicant or the administration)."""

    dossier_id: UUID
    reason: str
    now: datetime
    decided: Decision | None


@dataclass(frozen=True)
class HearDecision:
    """The President's decision, heard: the amendments taken that selection had not checked when
    it decided (they crossed the decision on the bus) are set aside."""

    dossier_id: UUID
    decided_on: UUID | None  # the amendment the decision was taken on; None: as filed
    decided_at: datetime
    now: datetime


Command = (
    Submit
    | Withdraw
    | AddAttachment
    | PostMessage
    | AddNote
    | RequestCorrection
    | Amend
    | RemindOfCorrection
    | MarkCorrectionOverdue
    | CloseIncomplete
    | SaveDraft
    | ShareDraft
    | CommentDraft
    | FileDraft
    | ImportDossier
    | AmendOnPlatform
    | WithdrawOnPlatform
    | HearDecision
)
