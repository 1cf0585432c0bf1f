"""A dossier as applications' rules see it, folded from its stream: `evolve(state, event)`.

One stream per dossier, from its first draft (its id becomes the dossier's) through its filing,
its attachments and thread, and its corrections.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.contracts import DomainEvent
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AttachmentAdded,
    CorrectionOverdue,
    CorrectionRequested,
    Dossier,
    DossierClosedIncomplete,
    DraftSaved,
    DraftShared,
)
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind
from shared.language.attachments import Audience


@dataclass(frozen=True)
class Correction:
    """A correction asked and not yet answered."""

    request_id: UUID
    fields: tuple[str, ...]
    due_at: datetime
    overdue: bool = False
    reminded_at: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Draft:
    campaign_id: str
    siren: str
    content: dict[str, Any]
    shared_with: str | None = None  # the département whose préfecture may comment


@dataclass(frozen=True)
class DossierState:
    submitted: bool = False
    withdrawn: bool = False
    closed: bool = False
    dossier_id: UUID | None = None
    reference: str = ""
    campaign_id: str = ""
    siren: str = ""
    departement: str = ""
    # Each version it stood in: (None, as filed), then (the amendment's request_id, as amended).
    versions: tuple[tuple[UUID | None, Dossier], ...] = ()
    draft: Draft | None = None
    attachments: dict[UUID, Audience] = field(default_factory=dict)
    correction: Correction | None = None

    @property
    def dossier(self) -> Dossier | None:
        """As it stands: as filed, then as amended (or as decided on, amendments set aside)."""
        return self.versions[-1][1] if self.versions else None

    @property
    def open(self) -> bool:
        """Filed, and neither withdrawn nor closed."""
        return self.submitted and not self.withdrawn and not self.closed


def evolve(state: DossierState, event: DomainEvent) -> DossierState:
    match event:
        case ApplicationSubmitted(dossier=dossier):
            return replace(
                state,
                submitted=True,
                dossier_id=event.dossier_id,
                reference=event.reference,
                campaign_id=event.campaign_id,
                siren=dossier.applicant.siren,
                departement=dossier.applicant.departement,
                versions=((None, dossier),),
            )
        case ApplicationWithdrawn():
            return replace(state, withdrawn=True)
        case AttachmentAdded(attachment=a):
            return replace(
                state, attachments={**state.attachments, a.attachment_id: event.audience}
            )
        case CorrectionRequested():
            asked = Correction(event.request_id, tuple(event.fields), event.due_at)
            return replace(state, correction=asked)
        case ApplicationAmended():
            versions = (*state.versions, (event.request_id, event.dossier))
            return replace(state, correction=None, versions=versions)
        case AmendmentsSetAside():
            kept = tuple(v for v in state.versions if v[0] not in event.request_ids)
            return replace(state, versions=kept)
        case DeadlineApproaching(deadline=DeadlineKind.correction) if state.correction:
            reminded = (*state.correction.reminded_at, event.reminded_at)
            return replace(state, correction=replace(state.correction, reminded_at=reminded))
        case CorrectionOverdue() if state.correction is not None:
            return replace(state, correction=replace(state.correction, overdue=True))
        case DossierClosedIncomplete():
            return replace(state, closed=True, correction=None)
        case DraftSaved():
            shared_with = state.draft.shared_with if state.draft else None
            draft = Draft(event.campaign_id, event.siren, event.content, shared_with)
            return replace(state, dossier_id=event.dossier_id, draft=draft)
        case DraftShared() if state.draft is not None:
            return replace(state, draft=replace(state.draft, shared_with=event.departement))
        case _:
            return state
