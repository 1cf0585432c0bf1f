"""Which mail an event calls for and to which parties; each mail's outcome recorded once.
Pure: no SMTP, no database."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from uuid import UUID

from services.notifications.errors import UnknownDepartement
from shared.contracts import DomainEvent
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CorrectionOverdue,
    CorrectionRequested,
    DossierClosedIncomplete,
    DraftCommented,
    DraftShared,
    MessagePosted,
    NoteAdded,
    Side,
)
from shared.contracts.committee import ReviewerAssigned, ReviewerRecused
from shared.contracts.deadlines import DeadlineApproaching
from shared.contracts.notifications import NotificationFailed, NotificationSent
from shared.contracts.payments import (
    ActivityReportSubmitted,
    BalanceReleased,
    BalanceWithheld,
    DepartmentalOpinionGiven,
    FinalReportOverdue,
    FinalReportSubmitted,
    FundsCommitted,
    InstalmentPaid,
)
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionOverdue,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    GrantReleased,
    OpinionOverdue,
    Outcome,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    SelectionDecided,
)
from shared.kernel.decider import Decider
from shared.personal.sealing import PLACEHOLDERS


class Party(str, Enum):
    """Who a mail is for: the collectivité, its département's project lead, MILDECA."""

    applicant = "applicant"  # the collectivité's representative, as filed
    prefecture = "prefecture"  # the departmental project lead (chef de projet MILDECA)
    mildeca = "mildeca"  # MILDECA's instruction team
    reviewer = "reviewer"  # the committee member the event names (their e-mail is in it)


A, P, M, R = Party.applicant, Party.prefecture, Party.mildeca, Party.reviewer

# Who receives each mail: (to, cc). The decision is sent to the holder under cover of the
# departmental project lead, so the préfecture is a party to every letter that binds money.
PARTIES: dict[str, tuple[tuple[Party, ...], tuple[Party, ...]]] = {
    "acknowledgement": ((A,), ()),
    "eligible": ((A,), ()),
    "ineligible": ((A,), ()),
    "opinion_requested": ((P,), (M,)),
    "opinion_given": ((M,), ()),
    "withdrawn": ((A,), (M,)),
    "decision_selected": ((A,), (P,)),
    "decision_rejected": ((A,), (P,)),
    "grant_released": ((M,), (P,)),
    "signature_added": ((A, P, M), ()),
    "convention_signed": ((A,), (P, M)),
    "funds_committed": ((A,), (P,)),
    "instalment_paid": ((A,), (P,)),
    # the instruction team pays the instalment it unlocks, the departmental project lead follows
    "activity_report_submitted": ((M,), (P,)),
    "opinion_on_balance_requested": ((P,), (M,)),
    "departmental_opinion_given": ((M,), ()),
    "balance_released": ((A,), (P,)),
    "balance_withheld": ((A,), (P,)),
    # a deadline near: `reminder_<deadline>_<party to act>`, to that party, MILDECA in copy
    "reminder_prefecture_opinion_prefecture": ((P,), (M,)),
    "reminder_convention_applicant": ((A,), (M,)),
    "reminder_convention_prefecture": ((P,), (M,)),
    "reminder_convention_mildeca": ((M,), ()),
    "reminder_final_report_applicant": ((A,), (M,)),
    "reminder_correction_applicant": ((A,), (M,)),
    # a deadline passed: to whoever had to act (both signing parties of a convention)
    "opinion_overdue": ((P,), (M,)),
    "convention_overdue": ((A, P), (M,)),
    "final_report_overdue": ((A,), (M,)),
    # the exchange: a message to the two sides that did not write it, a note to the other agents
    # (never to the applicant); these are the defaults, `mails_for` says who for each message
    "message_posted": ((A, P, M), ()),
    "note_added": ((P, M), ()),
    "correction_requested": ((A,), (P, M)),
    "application_amended": ((M,), (P,)),
    "amendments_set_aside": ((A,), (P, M)),
    "correction_overdue": ((A,), (M,)),
    "closed_incomplete": ((A,), (P, M)),
    "draft_shared": ((P,), ()),
    "draft_commented": ((A,), ()),
    # the committee: a member named on a dossier; the moderator told when one stands aside
    "reviewer_assigned": ((R,), (M,)),
    "reviewer_recused": ((M,), ()),
}


# The document a mail carries, as PDF: the one that records the mail's event
# (services/notifications/documents), rendered when the mail is sent.
DOCUMENTS = {
    "decision_selected": "decision",
    "decision_rejected": "decision",
    "convention_signed": "convention",
    "instalment_paid": "attestation",
    "balance_released": "attestation",
}


@dataclass(frozen=True)
class MailRequest:
    notification_id: str
    dossier_id: UUID
    template: str
    facts: dict[str, Any]
    to: tuple[Party, ...]
    cc: tuple[Party, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """What notifications knows of a dossier's holder, from its submission."""

    reference: str
    email: str
    name: str
    holder: str
    siren: str
    departement: str


@dataclass(frozen=True)
class Mailboxes:
    mildeca: str
    prefecture: str  # a pattern: {departement} is replaced by the dossier's département code


def template_for(event: DomainEvent) -> str | None:
    """The template an event calls for, or None when it calls for no mail."""
    match event:
        case EligibilityChecked():
            return "eligible" if event.eligible else "ineligible"
        case SelectionDecided():
            return "decision_selected" if event.outcome is Outcome.selected else "decision_rejected"
        case CommitteeAssessmentRecorded():
            return None  # an internal deliberation: the decision is what the parties are told
        case DeadlineApproaching():
            reminder = f"reminder_{event.deadline.value}_{event.party.value}"
            return reminder if reminder in PARTIES else None
    return _TEMPLATE_OF.get(type(event))


_TEMPLATE_OF: dict[type[DomainEvent], str] = {
    ApplicationSubmitted: "acknowledgement",
    PrefectureOpinionRequested: "opinion_requested",
    PrefectureOpinionGiven: "opinion_given",
    ApplicationWithdrawn: "withdrawn",
    MessagePosted: "message_posted",
    NoteAdded: "note_added",
    CorrectionRequested: "correction_requested",
    ApplicationAmended: "application_amended",
    AmendmentsSetAside: "amendments_set_aside",
    CorrectionOverdue: "correction_overdue",
    DossierClosedIncomplete: "closed_incomplete",
    DraftShared: "draft_shared",
    DraftCommented: "draft_commented",
    GrantReleased: "grant_released",
    ConventionSignatureAdded: "signature_added",
    ConventionSigned: "convention_signed",
    FundsCommitted: "funds_committed",
    InstalmentPaid: "instalment_paid",
    ActivityReportSubmitted: "activity_report_submitted",
    FinalReportSubmitted: "opinion_on_balance_requested",
    DepartmentalOpinionGiven: "departmental_opinion_given",
    BalanceReleased: "balance_released",
    BalanceWithheld: "balance_withheld",
    OpinionOverdue: "opinion_overdue",
    ConventionOverdue: "convention_overdue",
    FinalReportOverdue: "final_report_overdue",
    ReviewerAssigned: "reviewer_assigned",
    ReviewerRecused: "reviewer_recused",
}

# The events the mail-requests consumer reads. CommitteeAssessmentRecorded is not among them:
# the committee's scores are an internal deliberation, told to nobody until the decision.
MAILED_EVENTS: tuple[type[DomainEvent], ...] = (
    EligibilityChecked,
    SelectionDecided,
    DeadlineApproaching,
    *_TEMPLATE_OF,
)


def mails_for(event: DomainEvent, event_id: UUID) -> list[MailRequest]:
    """One event, the mails it calls for; the id makes a second request for it a no-op."""
    template = template_for(event)
    if template is None:
        return []
    # what a mail says of the exchange: who wrote, when; never the text (read on the platform)
    facts = event.model_dump(mode="json", exclude={"dossier_id", "dossier", "text", "content"})
    if isinstance(event, ApplicationSubmitted):
        facts["project_title"] = event.dossier.project.title
    if template in DOCUMENTS:
        facts["document"] = {"kind": DOCUMENTS[template], "event_id": str(event_id)}
    to, cc = PARTIES[template]
    if isinstance(event, MessagePosted | NoteAdded):
        to = tuple(p for p in to if p is not _PARTY_OF[event.side])
    return [MailRequest(f"{event_id}:{template}", event.dossier_id, template, facts, to, cc)]


_PARTY_OF = {
    Side.applicant: Party.applicant,
    Side.prefecture: Party.prefecture,
    Side.mildeca: Party.mildeca,
}


def addresses(
    parties: Sequence[Party],
    recipient: Recipient,
    mailboxes: Mailboxes,
    reviewer: str | None = None,
) -> list[tuple[str, str]]:
    """(display name, e-mail address) of each party of a dossier's mail; `reviewer`: the
    committee member the mail's event names. A person whose data was erased is written to no
    more: their placeholder is no address."""
    found = [_address(party, recipient, mailboxes, reviewer) for party in parties]
    return [(name, email) for name, email in found if email not in PLACEHOLDERS]


def _address(
    party: Party, recipient: Recipient, mailboxes: Mailboxes, reviewer: str | None
) -> tuple[str, str]:
    if party is Party.reviewer:
        if not reviewer:
            raise ValueError(f"dossier {recipient.reference}: the mail names no reviewer")
        return "Membre du comité de sélection", reviewer
    if party is Party.applicant:
        return recipient.name, recipient.email
    if party is Party.mildeca:
        return "MILDECA, instruction de l'appel à projets", mailboxes.mildeca
    if not recipient.departement:
        raise UnknownDepartement(
            f"dossier {recipient.reference}: no département to reach its préfecture"
        )
    return (
        f"Chef de projet départemental MILDECA, préfecture {recipient.departement}",
        mailboxes.prefecture.format(departement=recipient.departement),
    )


# --- the mails of a dossier, as its stream in the notifications store records them -----------


@dataclass(frozen=True)
class MailsState:
    sent: frozenset[str] = frozenset()  # the notification ids whose mail went out
    failed: frozenset[str] = frozenset()  # the notification ids whose failure was reported


@dataclass(frozen=True)
class RecordSent:
    sent: NotificationSent


@dataclass(frozen=True)
class ReportFailure:
    failed: NotificationFailed


Command = RecordSent | ReportFailure


def decide(state: MailsState, command: Command) -> list[DomainEvent]:
    """A mail's outcome is recorded once: sending it again after a crash records nothing more,
    and a failure is reported once, never after the mail went out."""
    match command:
        case RecordSent(sent=sent):
            return [] if sent.notification_id in state.sent else [sent]
        case ReportFailure(failed=failed):
            known = state.sent | state.failed
            return [] if failed.notification_id in known else [failed]


def evolve(state: MailsState, event: DomainEvent) -> MailsState:
    match event:
        case NotificationSent(notification_id=sent):
            return replace(state, sent=state.sent | {sent})
        case NotificationFailed(notification_id=failed):
            return replace(state, failed=state.failed | {failed})
        case _:
            return state


MAILS: Decider[MailsState, Command] = Decider(MailsState(), decide, evolve)
