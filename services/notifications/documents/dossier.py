"""What every document of a dossier rests on: the audited event it documents (its hash) and the
holder and project as filed or last amended before it. Pure: over the audit trail's events."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.audit import AuditEvent
from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationSubmitted,
    BudgetLine,
    RepresentativeRole,
)
from shared.language.errors import NotFound


class NoSuchDocument(NotFound):
    """The event a document records has not happened (or the trail has not caught up yet)."""


@dataclass(frozen=True)
class Attested:
    """The event a document records, as the audit shows it: anyone checks the document against
    the audit by its id and hash (GET /audit/dossiers/{dossier_id}, `aap audit check`)."""

    event_id: UUID
    type: str
    service: str
    stream_id: str
    version: int
    hash: str
    occurred_at: datetime
    record: dict[str, Any]  # the event as published: embedded in the PDF, its hash recomputable

    @classmethod
    def of(cls, event: AuditEvent) -> "Attested":
        return cls(
            event.event_id,
            event.type,
            event.service,
            event.stream_id,
            event.version,
            event.hash,
            event.occurred_at,
            event.as_json(),
        )


@dataclass(frozen=True)
class Holder:
    """The collectivité, its representative and its project, as the dossier said then."""

    dossier_id: UUID
    reference: str
    campaign_id: str
    name: str
    siren: str
    departement: str
    representative: str
    representative_role: RepresentativeRole
    project_title: str
    territory: str
    duration_months: int
    budget: tuple[BudgetLine, ...]
    total_cost_eur: Decimal
    requested_eur: Decimal

    @property
    def addressee(self) -> str:
        """ "Monsieur le maire" or "Madame la présidente" is not known: the office, neutral."""
        return _OFFICE.get(self.representative_role, "représentant")


_OFFICE = {
    RepresentativeRole.maire: "maire",
    RepresentativeRole.president: "président ou présidente",
    RepresentativeRole.adjoint: "maire adjoint",
    RepresentativeRole.vice_president: "vice-président ou vice-présidente",
    RepresentativeRole.directeur_general: "directeur général ou directrice générale",
}


def up_to(trail: Sequence[AuditEvent], event_id: UUID) -> list[AuditEvent]:
    """The trail up to the documented event, included: a document says what was known then, so
    it reads the same whenever it is rendered again."""
    for index, event in enumerate(trail):
        if event.event_id == event_id:
            return list(trail[: index + 1])
    raise NoSuchDocument(f"the audit trail holds no event {event_id} (yet: it follows the log)")


def last_of(trail: Sequence[AuditEvent], *types: str) -> AuditEvent:
    """The last event of these types; NoSuchDocument when none has happened."""
    for event in reversed(trail):
        if event.type in types:
            return event
    raise NoSuchDocument(f"no {' or '.join(types)} in the dossier's audit trail (yet)")


def holder(trail: Sequence[AuditEvent]) -> Holder:
    """The dossier as last filed or amended in `trail`."""
    filed = last_of(trail, "ApplicationSubmitted", "ApplicationAmended").event()
    assert isinstance(filed, ApplicationSubmitted | ApplicationAmended)
    d = filed.dossier
    return Holder(
        dossier_id=filed.dossier_id,
        reference=filed.reference,
        campaign_id=filed.campaign_id,
        name=d.applicant.name,
        siren=d.applicant.siren,
        departement=d.applicant.departement,
        representative=d.representative.name,
        representative_role=d.representative.role,
        project_title=d.project.title,
        territory=d.project.territory,
        duration_months=d.project.duration_months,
        budget=tuple(sorted(d.budget.lines, key=lambda line: line.year)),
        total_cost_eur=d.budget.total_cost_eur,
        requested_eur=d.requested_eur,
    )
