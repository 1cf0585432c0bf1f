"""The selection of one dossier: decide(state, event) -> events; evolve(state, event)."""

from dataclasses import dataclass, replace
from datetime import datetime

from services.selection.eligibility import failed_rules
from shared.campaigns import Campaign
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.selection import EligibilityChecked


@dataclass(frozen=True)
class SelectionState:
    checked: bool = False
    eligible: bool | None = None


def check_eligibility(state: SelectionState, submitted: ApplicationSubmitted,
                      campaign: Campaign, now: datetime) -> list[DomainEvent]:
    if state.checked:  # a second delivery of the same dossier changes nothing
        return []
    failures = failed_rules(submitted.dossier, campaign)
    return [
        EligibilityChecked(
            dossier_id=submitted.dossier_id,
            reference=submitted.reference,
            campaign_id=submitted.campaign_id,
            eligible=not failures,
            failed_rules=failures,
            checked_at=now,
            siren=submitted.dossier.applicant.siren,
            applicant_name=submitted.dossier.applicant.name,
            departement=submitted.dossier.applicant.departement,
            requested_eur=submitted.dossier.requested_eur,
            objectives=submitted.dossier.project.objectives,
        )
    ]


def evolve(state: SelectionState, event: DomainEvent) -> SelectionState:
    if isinstance(event, EligibilityChecked):
        return replace(state, checked=True, eligible=event.eligible)
    return state
