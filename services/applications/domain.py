"""The rules of a dossier's filing and withdrawal: decisions return events; evolve rebuilds state."""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn, Dossier
from shared.language.actors import Actor, Role, require_own_dossier, require_role
from shared.language.campaigns import Campaign
from shared.language.errors import NotFound, Refused


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


class UnknownDossier(NotFound):
    def __init__(self, dossier_id: UUID) -> None:
        super().__init__(f"no dossier {dossier_id} was filed")


class AlreadyWithdrawn(Refused):
    pass


class AlreadyDecided(Refused):
    """A dossier is withdrawn before the President's decision, never after it."""


@dataclass(frozen=True)
class Decision:
    """What applications learns of the President's decision (from `SelectionDecided`)."""

    outcome: str
    decided_at: datetime


@dataclass(frozen=True)
class DossierState:
    submitted: bool = False
    withdrawn: bool = False
    dossier_id: UUID | None = None
    reference: str = ""
    campaign_id: str = ""
    siren: str = ""


def ensure_open(campaign: Campaign, now: datetime) -> None:
    if now < campaign.published_at:
        raise CallNotOpen(campaign)
    if now >= campaign.deadline:
        raise CallClosed(campaign)


def ensure_may_file(actor: Actor, campaign: Campaign, dossier: Dossier, now: datetime) -> None:
    """Only an applicant files, for its own SIREN, while the call is open."""
    require_role(actor, Role.applicant, to="file a dossier")
    require_own_dossier(actor, dossier.applicant.siren, "file a dossier")
    ensure_open(campaign, now)


def submit(
    state: DossierState,
    *,
    actor: Actor,
    dossier_id: UUID,
    reference: str,
    campaign: Campaign,
    dossier: Dossier,
    now: datetime,
) -> list[DomainEvent]:
    ensure_may_file(actor, campaign, dossier, now)
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


def withdraw(
    state: DossierState,
    *,
    dossier_id: UUID,
    actor: Actor,
    reason: str,
    now: datetime,
    decided: Decision | None,
) -> list[DomainEvent]:
    """The applicant of the dossier's SIREN withdraws it, once, and only before the decision."""
    if not state.submitted:
        raise UnknownDossier(dossier_id)
    require_role(actor, Role.applicant, to="withdraw a dossier")
    require_own_dossier(actor, state.siren, "withdraw this dossier")
    if state.withdrawn:
        raise AlreadyWithdrawn(f"dossier {state.reference} is already withdrawn")
    if decided is not None:
        raise AlreadyDecided(
            f"dossier {state.reference} can no longer be withdrawn: the President of MILDECA "
            f"decided ({decided.outcome}) on {decided.decided_at.isoformat()}"
        )
    return [
        ApplicationWithdrawn(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            withdrawn_at=now,
            reason=reason,
        )
    ]


def evolve(state: DossierState, event: DomainEvent) -> DossierState:
    if isinstance(event, ApplicationSubmitted):
        return replace(
            state,
            submitted=True,
            dossier_id=event.dossier_id,
            reference=event.reference,
            campaign_id=event.campaign_id,
            siren=event.dossier.applicant.siren,
        )
    if isinstance(event, ApplicationWithdrawn):
        return replace(state, withdrawn=True)
    return state


def reference_for(campaign: Campaign, number: int) -> str:
    """A dossier number a person can read and say on the phone: AAP-2024-00042."""
    return f"{campaign.reference_prefix}-{number:05d}"
