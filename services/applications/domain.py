"""A dossier's filing and withdrawal: decide(state, command) -> events; evolve(state, event)."""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from services.applications.commands import Command, Submit, Withdraw
from services.applications.errors import (
    AlreadyDecided,
    AlreadySubmitted,
    AlreadyWithdrawn,
    CallClosed,
    CallNotOpen,
    UnknownDossier,
)
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.kernel.decider import Decider
from shared.language.actors import Role, require_own_dossier, require_role, within_binding
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class DossierState:
    submitted: bool = False
    withdrawn: bool = False
    dossier_id: UUID | None = None
    reference: str = ""
    campaign_id: str = ""
    siren: str = ""
    departement: str = ""


def decide(state: DossierState, command: Command) -> list[DomainEvent]:
    match command:
        case Submit():
            return _submit(state, command)
        case Withdraw():
            return _withdraw(state, command)


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
            )
        case ApplicationWithdrawn():
            return replace(state, withdrawn=True)
        case _:
            return state


DOSSIER: Decider[DossierState, Command] = Decider(DossierState(), decide, evolve)


def ensure_open(campaign: Campaign, now: datetime) -> None:
    if now < campaign.published_at:
        raise CallNotOpen(campaign)
    if now >= campaign.deadline:
        raise CallClosed(campaign)


def _submit(state: DossierState, c: Submit) -> list[DomainEvent]:
    """Only an applicant files, for its own SIREN, while the call is open; once."""
    require_role(c.actor, Role.applicant, to="file a dossier")
    require_own_dossier(c.actor, c.dossier.applicant.siren, "file a dossier")
    ensure_open(c.campaign, c.now)
    if state.submitted:
        raise AlreadySubmitted(f"dossier {c.dossier_id} is already submitted")
    return [
        ApplicationSubmitted(
            dossier_id=c.dossier_id,
            reference=c.reference,
            campaign_id=c.campaign.id,
            submitted_at=c.now,
            dossier=c.dossier,
        )
    ]


def _withdraw(state: DossierState, c: Withdraw) -> list[DomainEvent]:
    """The applicant of the dossier's SIREN withdraws it, once, and only before the decision."""
    require_role(c.actor, Role.applicant, to="withdraw a dossier")
    if not state.submitted or not within_binding(c.actor, siren=state.siren):
        raise UnknownDossier(c.dossier_id)
    if state.withdrawn:
        raise AlreadyWithdrawn(f"dossier {state.reference} is already withdrawn")
    if c.decided is not None:
        raise AlreadyDecided(
            f"dossier {state.reference} can no longer be withdrawn: the President of MILDECA "
            f"decided ({c.decided.outcome}) on {c.decided.decided_at.isoformat()}"
        )
    return [
        ApplicationWithdrawn(
            dossier_id=c.dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            withdrawn_at=c.now,
            reason=c.reason,
        )
    ]


def reference_for(campaign: Campaign, number: int) -> str:
    """A dossier number a person can read and say on the phone: AAP-2024-00042."""
    return f"{campaign.reference_prefix}-{number:05d}"
