"""Events of the applications service and the dossier they carry."""

from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.base import DomainEvent, Person, Upcaster
from shared.contracts.values import (
    Attachment,
    Boolean,
    DepartementCode,
    Email,
    Euros,
    Motivation,
    ShortText,
    Siren,
    Text,
    WholeNumber,
)
from shared.language.attachments import Audience


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HolderKind(str, Enum):
    commune = "commune"
    intercommunalite = "intercommunalite"
    departement = "departement"
    region = "region"
    association = "association"
    other = "other"


class RepresentativeRole(str, Enum):
    maire = "maire"
    president = "president"
    adjoint = "adjoint"
    vice_president = "vice_president"
    directeur_general = "directeur_general"
    other = "other"


class Objective(str, Enum):
    partnership_training = "partnership_training"
    prevent_entry = "prevent_entry"
    counter_attractiveness = "counter_attractiveness"
    detect_and_support = "detect_and_support"
    reclaim_public_space = "reclaim_public_space"


class BudgetCategory(str, Enum):
    actions = "actions"
    personnel = "personnel"
    training = "training"
    communication = "communication"
    equipment = "equipment"
    evaluation = "evaluation"
    structure_operation = "structure_operation"


class Applicant(Strict):
    siren: Siren
    name: ShortText
    kind: HolderKind
    departement: DepartementCode


class Representative(Strict):
    name: ShortText
    role: RepresentativeRole
    email: Email


class Partner(Strict):
    name: ShortText
    kind: ShortText


class Project(Strict):
    title: ShortText
    summary: Text
    territory: Text
    beneficiaries: Text
    objectives: list[Objective] = Field(min_length=1, max_length=5)
    partners: list[Partner] = Field(default_factory=list, max_length=100)
    duration_months: WholeNumber = Field(ge=1, le=120)


class BudgetLine(Strict):
    year: WholeNumber = Field(ge=1, le=10, description="project year: 1 for the first year")
    category: BudgetCategory
    label: ShortText
    amount_eur: Euros
    permanent_post: Boolean = Field(
        default=False, description="personnel lines only: the post outlives the project"
    )


class Budget(Strict):
    lines: list[BudgetLine] = Field(min_length=1, max_length=200)
    total_cost_eur: Euros


class Dossier(Strict):
    """What an applicant files: the body of `POST /campaigns/{id}/dossiers`."""

    applicant: Applicant
    representative: Representative
    project: Project
    budget: Budget
    requested_eur: Euros


class Platform(str, Enum):
    demarches_simplifiees = "demarches-simplifiees"


class Origin(Strict):
    """Where a dossier filed elsewhere came from: the platform, its démarche and dossier."""

    platform: Platform
    demarche_number: int
    dossier_number: int
    dossier_id: str = Field(description="the dossier's id on the platform (DS's GraphQL id)")
    deposited_at: AwareDatetime = Field(description="filed on the platform (the deadline's test)")
    champs_modified_at: AwareDatetime | None = Field(
        default=None, description="when the applicant last changed its answers there"
    )
    imported_at: AwareDatetime


class ApplicationSubmittedV1(DomainEvent):
    """Version 1, still in the log: every dossier was filed in aap."""

    name = "ApplicationSubmitted"
    version = 1

    reference: str
    campaign_id: str
    submitted_at: AwareDatetime
    dossier: Dossier


def _filed_in_aap(v1: dict[str, Any]) -> dict[str, Any]:
    return {**v1, "origin": None}


class ApplicationSubmittedV2(DomainEvent):
    """A dossier filed: in aap, or on another platform and imported (then `origin` says where,
    and `submitted_at` is the platform's filing instant)."""

    # Version 2, still in the log: the representative in clear (its published schema says so).

    name = "ApplicationSubmitted"
    version = 2

    reference: str
    campaign_id: str
    submitted_at: AwareDatetime
    dossier: Dossier
    origin: Origin | None = Field(
        default=None, description="the platform it was filed on; null when filed in aap"
    )


def _read_as_written(earlier: dict[str, Any]) -> dict[str, Any]:
    # The same payload: only its wire form changed (its people sealed, shared.personal).
    return earlier


class ApplicationSubmitted(ApplicationSubmittedV2):
    """A dossier filed: in aap, or on another platform and imported (then `origin` says where,
    and `submitted_at` is the platform's filing instant). Version 3: the representative's name
    and e-mail are sealed on the wire (docs/personal-data.md)."""

    version = 3
    personal = (Person("dossier.representative"),)


class ApplicationWithdrawn(DomainEvent):
    """The applicant withdraws its dossier, before the decision: every later step stops."""

    name = "ApplicationWithdrawn"

    reference: str
    campaign_id: str
    withdrawn_at: AwareDatetime
    reason: Text


# --- the exchange around a dossier: attachments, messages, notes (docs/instruction.md) ---------


class Side(str, Enum):
    """The three sides of a dossier's thread: the collectivité, its préfecture, MILDECA."""

    applicant = "applicant"
    prefecture = "prefecture"
    mildeca = "mildeca"


class AttachmentAdded(DomainEvent):
    name = "AttachmentAdded"

    reference: str
    campaign_id: str
    attachment: Attachment
    audience: Audience
    side: Side
    added_at: AwareDatetime


class MessagePostedV1(DomainEvent):
    """A message of the dossier's thread, read by the three sides and mailed to the two others."""

    name = "MessagePosted"

    reference: str
    campaign_id: str
    message_id: UUID
    side: Side
    author: str  # who wrote it: the person's subject (an e-mail)
    text: Motivation
    attachments: list[UUID] = Field(default_factory=list, max_length=20)
    posted_at: AwareDatetime


# Who wrote a message, a note, a comment: the person's subject, sealed when it is an e-mail (an
# agent's id, which names nobody outside aap, stays in clear).
_AUTHOR = (Person("author", email=None, only_emails=True),)


class MessagePosted(MessagePostedV1):
    """A message of the dossier's thread, read by the three sides and mailed to the two others.
    Version 2: its author's e-mail is sealed on the wire (docs/personal-data.md)."""

    version = 2
    personal = _AUTHOR


class NoteAddedV1(DomainEvent):
    """A private note among agents (MILDECA and the préfecture): never shown nor mailed to the
    applicant."""

    name = "NoteAdded"

    reference: str
    campaign_id: str
    note_id: UUID
    side: Side
    author: str
    text: Motivation
    attachments: list[UUID] = Field(default_factory=list, max_length=20)
    added_at: AwareDatetime


class NoteAdded(NoteAddedV1):
    """A private note among agents (MILDECA and the préfecture): never shown nor mailed to the
    applicant. Version 2: its author's e-mail is sealed on the wire (docs/personal-data.md)."""

    version = 2
    personal = _AUTHOR


# --- corrections (DS's "demande de correction") ------------------------------------------------

# What an instructor may ask to correct: the dossier's parts an applicant wrote, not who it is.
CORRECTABLE = (
    "representative",
    "project.title",
    "project.summary",
    "project.territory",
    "project.beneficiaries",
    "project.objectives",
    "project.partners",
    "project.duration_months",
    "budget",
    "requested_eur",
)


class CorrectionRequested(DomainEvent):
    name = "CorrectionRequested"

    reference: str
    campaign_id: str
    request_id: UUID
    fields: list[str] = Field(min_length=1)
    reason: Motivation
    due_at: AwareDatetime
    requested_at: AwareDatetime


class FieldChange(Strict):
    field: str
    before: Any
    after: Any


class ApplicationAmendedV1(DomainEvent):
    """Version 1, still in the log: every amendment answered a correction asked in aap."""

    name = "ApplicationAmended"
    version = 1

    reference: str
    campaign_id: str
    request_id: UUID
    changes: list[FieldChange] = Field(min_length=1)
    dossier: Dossier
    amended_at: AwareDatetime


class ApplicationAmendedV2(DomainEvent):
    """The applicant corrected its dossier: in aap, the fields asked and those only; on the
    platform it was filed on, what it changed there (`origin`). Each change with its value before
    and after, and the dossier as it now stands (eligibility is checked on it again)."""

    # Version 2, still in the log: the representative in clear (its published schema says so).

    name = "ApplicationAmended"
    version = 2

    reference: str
    campaign_id: str
    request_id: UUID = Field(
        description="the correction request answered, or an id of the platform's change"
    )
    changes: list[FieldChange] = Field(min_length=1)
    dossier: Dossier
    amended_at: AwareDatetime
    origin: Origin | None = Field(
        default=None, description="the platform the change was made on; null when made in aap"
    )


class ApplicationAmended(ApplicationAmendedV2):
    """The applicant corrected its dossier: in aap, the fields asked and those only; on the
    platform it was filed on, what it changed there (`origin`). Each change with its value before
    and after, and the dossier as it now stands (eligibility is checked on it again). Version 3:
    the representative's name and e-mail are sealed on the wire, in the dossier and in a change
    of the representative (docs/personal-data.md)."""

    version = 3
    personal = (
        Person("dossier.representative"),
        Person("changes[].before"),
        Person("changes[].after"),
    )


class AmendmentsSetAside(DomainEvent):
    """Amendments that crossed the President's decision on the bus (taken before applications
    heard it, made or checked after selection decided) are set aside: the dossier as decided
    stands again, and it is the one the convention binds."""

    name = "AmendmentsSetAside"

    reference: str
    campaign_id: str
    request_ids: list[UUID] = Field(min_length=1, description="the amendments set aside")
    dossier: Dossier = Field(description="the dossier as decided on, standing again")
    decided_at: AwareDatetime
    set_aside_at: AwareDatetime
    personal = (Person("dossier.representative"),)


class CorrectionOverdue(DomainEvent):
    name = "CorrectionOverdue"

    reference: str
    campaign_id: str
    request_id: UUID
    due_at: AwareDatetime
    recorded_at: AwareDatetime


class DossierClosedIncomplete(DomainEvent):
    """A dossier whose correction did not come before its deadline, closed by an instructor:
    every later step stops, as after a withdrawal."""

    name = "DossierClosedIncomplete"

    reference: str
    campaign_id: str
    request_id: UUID
    motivation: Motivation
    closed_at: AwareDatetime


# --- drafts: saved, shared with the préfecture, commented, then filed ---------------------------


class DraftSavedV1(DomainEvent):
    """A draft, as far as the applicant wrote it: not a filing (no reference, no eligibility).
    Its id becomes the dossier's id when it is filed."""

    # Version 1, still in the log: the representative in clear (its published schema says so).

    name = "DraftSaved"

    campaign_id: str
    siren: Siren
    content: dict[str, Any]
    saved_at: AwareDatetime


class DraftSaved(DraftSavedV1):
    """A draft, as far as the applicant wrote it: not a filing (no reference, no eligibility).
    Its id becomes the dossier's id when it is filed. Version 2: the representative's name and
    e-mail, when the draft has them, are sealed on the wire (docs/personal-data.md)."""

    version = 2
    personal = (Person("content.representative"),)


class DraftSharedV1(DomainEvent):
    """The applicant shows its draft to the préfecture of its département, which may comment."""

    # Version 1, still in the log: the contact's e-mail in clear (its published schema says so).

    name = "DraftShared"

    campaign_id: str
    siren: Siren
    departement: DepartementCode
    applicant_name: str
    contact_email: str
    shared_at: AwareDatetime


class DraftShared(DraftSharedV1):
    """The applicant shows its draft to the préfecture of its département, which may comment.
    Version 2: the contact's e-mail is sealed on the wire (docs/personal-data.md)."""

    version = 2
    personal = (Person("contact_email", email=None),)


class DraftCommentedV1(DomainEvent):
    name = "DraftCommented"

    campaign_id: str
    comment_id: UUID
    departement: DepartementCode
    author: str
    text: Motivation
    commented_at: AwareDatetime


class DraftCommented(DraftCommentedV1):
    """The préfecture comments a draft shared with it. Version 2: its author's e-mail is sealed
    on the wire (docs/personal-data.md)."""

    version = 2
    personal = _AUTHOR


EVENTS = (
    ApplicationSubmittedV1,
    ApplicationSubmittedV2,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AttachmentAdded,
    MessagePostedV1,
    MessagePosted,
    NoteAddedV1,
    NoteAdded,
    CorrectionRequested,
    ApplicationAmendedV1,
    ApplicationAmendedV2,
    ApplicationAmended,
    AmendmentsSetAside,
    CorrectionOverdue,
    DossierClosedIncomplete,
    DraftSavedV1,
    DraftSaved,
    DraftSharedV1,
    DraftShared,
    DraftCommentedV1,
    DraftCommented,
)
UPCASTERS: tuple[Upcaster, ...] = (
    Upcaster(ApplicationSubmittedV1, ApplicationSubmittedV2, _filed_in_aap),
    Upcaster(ApplicationSubmittedV2, ApplicationSubmitted, _read_as_written),
    Upcaster(ApplicationAmendedV1, ApplicationAmendedV2, _filed_in_aap),
    Upcaster(ApplicationAmendedV2, ApplicationAmended, _read_as_written),
    Upcaster(DraftSavedV1, DraftSaved, _read_as_written),
    Upcaster(DraftSharedV1, DraftShared, _read_as_written),
    Upcaster(MessagePostedV1, MessagePosted, _read_as_written),
    Upcaster(NoteAddedV1, NoteAdded, _read_as_written),
    Upcaster(DraftCommentedV1, DraftCommented, _read_as_written),
)
