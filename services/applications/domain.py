"""The rules of filing a dossier: decide(state, command) -> events; evolve(state, event)."""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from shared.campaigns import Campaign
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn, Dossier
from shared.errors import Refused


class CallClosed(Refused):
    def __init__(self, campaign: Campaign) -> None:
        super().__init__(
            f"the call {campaign.id!r} closed at its deadline {campaign.deadline_paris()} "
            "(Europe/Paris): dossiers are accepted strictly before it"
        )


class CallNotOpen(Refused):
    def __init__(self, campaign: Campaign) -> None:
        super().__init__(f"the call {campaign.id!r} opens on {campaign.published_at.isoformat()}")


class AlreadySubmitted(Refused):
    pass


@dataclass(frozen=True)
class DossierState:
    submitted: bool = False
    withdrawn: bool = False


def ensure_open(campaign: Campaign, now: datetime) -> None:
    if now < campaign.published_at:
        raise CallNotOpen(campaign)
    if now >= campaign.deadline:
        raise CallClosed(campaign)


def submit(state: DossierState, *, dossier_id: UUID, reference: str, campaign: Campaign,
           dossier: Dossier, now: datetime) -> list[DomainEvent]:
    ensure_open(campaign, now)
    if state.submitted:
        raise AlreadySubmitted(f"dossier {dossier_id} is already submitted")
    return [
        ApplicationSubmitted(
            dossier_id=dossier_id,
            reference=reference,
            campaign_id=campaign.id,
            submitted_at=now,
            dossier=dossier,
        )
    ]


def evolve(state: DossierState, event: DomainEvent) -> DossierState:
    if isinstance(event, ApplicationSubmitted):
        return replace(state, submitted=True)
    if isinstance(event, ApplicationWithdrawn):
        return replace(state, withdrawn=True)
    return state


def reference_for(campaign: Campaign, number: int) -> str:
    """A dossier number a person can read and say on the phone: AAP-2024-00042."""
    return f"{campaign.reference_prefix}-{number:05d}"
