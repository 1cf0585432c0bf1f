"""Which service publishes which event types: the one list the JSON Schemas and AsyncAPI use."""

from shared.contracts import applications as a
from shared.contracts import committee as c
from shared.contracts import deadlines as d
from shared.contracts import dotations as dt
from shared.contracts import notifications as n
from shared.contracts import payments as p
from shared.contracts import personal as pd
from shared.contracts import selection as s
from shared.contracts.base import DomainEvent
from shared.contracts.upcasting import versions_of

# Each service's events, in their latest version, on its own topic <prefix>.<service>.events.
# The shared ones (shared.contracts.deadlines) are published by each service owning a deadline.
PUBLISHED_BY: dict[str, tuple[type[DomainEvent], ...]] = {
    "applications": (
        a.ApplicationSubmitted,
        a.ApplicationWithdrawn,
        a.AttachmentAdded,
        a.MessagePosted,
        a.NoteAdded,
        a.CorrectionRequested,
        a.ApplicationAmended,
        a.AmendmentsSetAside,
        d.DeadlineApproaching,
        a.CorrectionOverdue,
        a.DossierClosedIncomplete,
        a.DraftSaved,
        a.DraftShared,
        a.DraftCommented,
        pd.PersonalDataErased,
    ),
    "selection": (
        s.EligibilityChecked,
        s.PrefectureOpinionRequested,
        s.PrefectureOpinionGiven,
        s.CommitteeAssessmentRecorded,
        s.SelectionDecided,
        s.ConventionSignatureAdded,
        s.ConventionSigned,
        s.GrantReleased,
        d.DeadlineApproaching,
        s.OpinionOverdue,
        s.ConventionOverdue,
        dt.DotationComputed,
        c.ReviewerAssigned,
        c.NoConflictDeclared,
        c.ReviewerRecused,
        c.ReviewSubmitted,
        c.CommitteeSessionHeld,
        c.CommitteeSessionDecided,
    ),
    "payments": (
        p.FundsCommitted,
        p.InstalmentPaid,
        p.ActivityReportSubmitted,
        p.FinalReportSubmitted,
        p.DepartmentalOpinionGiven,
        p.BalanceReleased,
        p.BalanceWithheld,
        d.DeadlineApproaching,
        p.FinalReportOverdue,
        p.SpendingProofAdded,
    ),
    "notifications": (n.NotificationSent, n.NotificationFailed),
}


def in_the_log(service: str) -> list[type[DomainEvent]]:
    """Every version of every event type the service publishes: its topic keeps them all."""
    return [version for model in PUBLISHED_BY[service] for version in versions_of(model)]
